"""Evaluation: how well retrieval finds the answering turns (recall), and stored answers
asked again with another model or answerer (replay), with their reports."""
