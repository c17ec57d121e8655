"""The takeaway of the day: when it is due, which takeaway, and posting it exactly once."""
