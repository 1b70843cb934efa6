"""The improvement loop as a small state machine of phase functions.

Per iteration: ``prepare`` → ``attempt`` → ``verify`` → ``reflection`` → ``build`` → ``qualify`` → ``activate``.
Each phase is an async function ``(ctx, record) -> None`` in its own module; :mod:`harnessgym.loop.driver`
runs them in order, journals each completed phase, and resumes after the last one journaled.
"""

from harnessgym.loop.driver import resume_run, start_run

__all__ = ["resume_run", "start_run"]
