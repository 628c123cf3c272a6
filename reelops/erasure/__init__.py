"""Members' control over their data: find, export and erase one member in every store."""
