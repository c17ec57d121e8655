"""Claude as the answerer: the prompt, the citations read back, and the Anthropic client with
its retry budget (shared with the takeaways Claude writes)."""
