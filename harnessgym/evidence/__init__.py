"""Evidence, not claims: the verify and post-attempt commands harnessgym runs itself, and the scores they
measure. Nothing here trusts what the agent wrote about its own success."""
