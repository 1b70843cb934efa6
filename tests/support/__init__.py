"""Shared test support: installers for the pinned npm tools, the scripted model server, hostile servers."""
