"""Prompt templates (string.Template, ``$name``); edit the .md files to change what agents are told."""
