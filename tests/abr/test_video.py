"""Tests for the packaged reference video."""

import numpy as np
import pytest

from reelops.abr.video import Video, reference_video


def test_reference_video_has_48_chunks_of_4s_at_six_levels():
    video = reference_video()

    assert video.bitrates_kbps == (300, 750, 1200, 1850, 2850, 4300)
    assert video.chunk_bytes.shape == (6, 48)
    assert video.chunk_s == 4.0
    assert video.chunk_bytes[0, 0] == 181801  # first line of video_size_0


def test_reference_chunk_sizes_match_nominal_bitrates():
    video = reference_video()

    mean_kbps = video.chunk_bytes.mean(axis=1) * 8 / video.chunk_s / 1000

    np.testing.assert_allclose(mean_kbps, video.bitrates_kbps, rtol=0.03)


def test_video_rejects_sizes_that_do_not_match_levels():
    with pytest.raises(ValueError, match=r"shape \(levels=2, chunks\)"):
        Video((300, 750), np.ones((3, 4), dtype=np.int64))
