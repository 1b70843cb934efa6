"""The improvement loop as a small state machine of phase functions.

Per iteration: ``prepare`` → ``attempt`` → ``verify`` → ``reflection`` → ``build`` → ``qualify`` → ``activate``.
Each phase is an async function ``(ctx, record) -> None`` in its own module; :mod:`harnessgym.loop.driver`
runs them in order and journals each completed phase (``verify`` also runs the post-attempt command and, in
optimization mode, scores the iteration against the baseline and keeps the best workspace:
:mod:`harnessgym.loop.optimize`); :mod:`harnessgym.loop.pickup` resumes a run after the
last one journaled or continues it by more iterations.
"""

from harnessgym.loop.driver import start_run
from harnessgym.loop.pickup import continue_run, resume_run

__all__ = ["continue_run", "resume_run", "start_run"]
