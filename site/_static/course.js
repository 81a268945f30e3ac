// The course's additions to sphinx-book-theme.

// Opened from disk (file://), a page may not fetch other pages: the search then lists its results
// without the excerpts it would fetch from each page (served over http(s), it shows them).
if (window.location.protocol === "file:") {
  DOCUMENTATION_OPTIONS.SHOW_SEARCH_SUMMARY = false;
}
