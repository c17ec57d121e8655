"""episode-bot: answers questions about podcast episodes, grounded in their transcripts."""
