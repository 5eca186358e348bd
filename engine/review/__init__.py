"""The prosecutors' review service (E6): a store of clues and decisions, publishing runs into it,
users and sessions, the JSON API and the server-rendered pages. See docs/review.md."""
