"""``prt serve``: a self-hosted evaluation server for a pose benchmark with a hidden test set (docs/serve.md).

``db`` the tables, engines and Alembic migrations (SQLite or PostgreSQL; uploads and hidden GT live there);
``splits`` the public/private split and the evaluation of one part (``prt evaluate`` on its items);
``archives`` the checked unpacking of uploads; ``queue`` evaluation on Huey's SQL queue with claims,
heartbeats and a reaper; ``admin`` the maintainer's operations and the limits; ``board`` the boards via
prt's leaderboard; ``app`` the Starlette application (JSON API, pages, sign-in, upload form).
Needs the ``serve`` extra.
"""
