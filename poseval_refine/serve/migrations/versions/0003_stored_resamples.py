"""The workers store what the boards need of a submission's numbers beside them: each part's bootstrap
resamples of the primary metric, intervals and note (``serve.board.pack_entry``), and the stamp of the code
and draws that computed them. No board request or rebuild then resamples. Submissions done before this
migration have none: the server's board warmer computes theirs in the background (the submissions on a board
first), a board built before it has read them through prt's results cache as before.

Revision ID: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("prt_submissions", sa.Column("public_resamples", sa.LargeBinary(), nullable=True))
    op.add_column("prt_submissions", sa.Column("private_resamples", sa.LargeBinary(), nullable=True))
    op.add_column("prt_submissions", sa.Column("resamples_stamp", sa.String(200), nullable=True))


def downgrade():
    with op.batch_alter_table("prt_submissions") as batch:
        batch.drop_column("resamples_stamp")
        batch.drop_column("private_resamples")
        batch.drop_column("public_resamples")
