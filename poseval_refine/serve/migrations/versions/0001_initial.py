"""The first schema: settings, benchmarks with their hidden GT files, teams, submissions.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("prt_settings",
                    sa.Column("key", sa.String(64), primary_key=True),
                    sa.Column("value", sa.Text(), nullable=False))
    op.create_table("prt_benchmarks",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.String(100), nullable=False, unique=True),
                    sa.Column("task", sa.String(32), nullable=False),
                    sa.Column("options", sa.JSON(), nullable=False),
                    sa.Column("gt_name", sa.String(255), nullable=False),
                    sa.Column("gt_is_dir", sa.Boolean(), nullable=False),
                    sa.Column("gt_sha256", sa.String(64), nullable=False),
                    sa.Column("split", sa.JSON(), nullable=False),
                    sa.Column("public_fraction", sa.Float(), nullable=False),
                    sa.Column("split_seed", sa.Integer(), nullable=False),
                    sa.Column("daily_limit", sa.Integer(), nullable=True),
                    sa.Column("total_limit", sa.Integer(), nullable=True),
                    sa.Column("max_upload_mb", sa.Float(), nullable=False),
                    sa.Column("created_at", sa.DateTime(), nullable=False),
                    sa.Column("revealed_at", sa.DateTime(), nullable=True))
    op.create_table("prt_gt_files",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("benchmark_id", sa.Integer(), sa.ForeignKey("prt_benchmarks.id", ondelete="CASCADE"),
                              nullable=False, index=True),
                    sa.Column("path", sa.String(1000), nullable=False),
                    sa.Column("content", sa.LargeBinary(), nullable=False))
    op.create_table("prt_teams",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("name", sa.String(100), nullable=False, unique=True),
                    sa.Column("token_hash", sa.String(64), nullable=True, index=True),
                    sa.Column("created_at", sa.DateTime(), nullable=False))
    op.create_table("prt_submissions",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("benchmark_id", sa.Integer(), sa.ForeignKey("prt_benchmarks.id", ondelete="CASCADE"),
                              nullable=False, index=True),
                    sa.Column("team_id", sa.Integer(), sa.ForeignKey("prt_teams.id", ondelete="CASCADE"),
                              nullable=False, index=True),
                    sa.Column("method", sa.String(100), nullable=False),
                    sa.Column("filename", sa.String(255), nullable=False),
                    sa.Column("upload", sa.LargeBinary(), nullable=False),
                    sa.Column("size", sa.Integer(), nullable=False),
                    sa.Column("sha256", sa.String(64), nullable=False),
                    sa.Column("final", sa.Boolean(), nullable=False),
                    sa.Column("status", sa.String(16), nullable=False, index=True),
                    sa.Column("error", sa.Text(), nullable=True),
                    sa.Column("created_at", sa.DateTime(), nullable=False, index=True),
                    sa.Column("enqueued_at", sa.DateTime(), nullable=True),
                    sa.Column("started_at", sa.DateTime(), nullable=True),
                    sa.Column("worker", sa.String(200), nullable=True),
                    sa.Column("heartbeat_at", sa.DateTime(), nullable=True),
                    sa.Column("attempts", sa.Integer(), nullable=False),
                    sa.Column("finished_at", sa.DateTime(), nullable=True),
                    sa.Column("public", sa.JSON(), nullable=True),
                    sa.Column("private", sa.JSON(), nullable=True),
                    sa.Column("gt_sha256", sa.String(64), nullable=True),
                    sa.UniqueConstraint("id", "team_id"))


def downgrade():
    for table in ("prt_submissions", "prt_teams", "prt_gt_files", "prt_benchmarks", "prt_settings"):
        op.drop_table(table)
