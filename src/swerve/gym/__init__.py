"""The environment farm: environments (``env``), their sources (``sources``), episodes, the
pool that runs many at once, and the store that records them. See docs/gym.md.

Nothing is imported here: ``import swerve.gym`` stays cheap; import the modules you need.
Imports the agent core, ``config``, ``eval``, ``tasks``, ``tools`` and ``sandbox``; no face.
"""
