"""The takeaway of the day: what a takeaway is, which comes next, and when it is due."""
