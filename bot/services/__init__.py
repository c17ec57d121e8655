"""Services: each flow the surfaces share, written once (asking, threads, daily posts, the
library). Surfaces call these; these call the domain and storage."""
