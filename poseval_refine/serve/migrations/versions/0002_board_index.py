"""The boards read no result JSON to choose each team's submission: the public primary metric of a submission
is a column of its own (``public_primary``, written with its numbers), and one index covers every column a
board's choice and its cache key read, so SQLite answers from the index without walking the uploads'
overflow pages. Done submissions stored before get their value from their stored numbers.

Revision ID: 0002
"""

import json

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: the columns of ix_prt_submissions_board (poseval_refine.serve.db.BOARD_INDEX has the same)
COLUMNS = ["benchmark_id", "status", "team_id", "id", "public_primary", "attempts", "final", "finished_at", "method"]


def upgrade():
    from poseval_refine.serve.board import primary_value

    op.add_column("prt_submissions", sa.Column("public_primary", sa.Float(), nullable=True))
    op.create_index("ix_prt_submissions_board", "prt_submissions", COLUMNS)
    conn = op.get_bind()
    done = conn.execute(sa.text("SELECT s.id, b.task FROM prt_submissions s JOIN prt_benchmarks b "
                                "ON b.id = s.benchmark_id WHERE s.status = 'done'")).all()
    for sid, task in done:
        public = conn.execute(sa.text("SELECT public FROM prt_submissions WHERE id = :i"), {"i": sid}).scalar()
        if isinstance(public, (str, bytes)):
            public = json.loads(public)
        conn.execute(sa.text("UPDATE prt_submissions SET public_primary = :v WHERE id = :i"),
                     {"v": primary_value(public, task), "i": sid})


def downgrade():
    op.drop_index("ix_prt_submissions_board", "prt_submissions")
    with op.batch_alter_table("prt_submissions") as batch:
        batch.drop_column("public_primary")
