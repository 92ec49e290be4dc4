"""quiz attempts graded by the tool; answers checked one by one (feedback: immediate); drawn questions

Until this revision the module page sent its own score. Progress rows that carry such a score get one
attempt row (scored_by "browser") that keeps the learner's attempt count and best score, read from the
saved runtime state ("1|page|visited|attempts|…"), so nobody gains attempts by the upgrade.

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def attempts_in(state: str | None) -> int:
    parts = (state or "").split("|")
    return int(parts[3]) if len(parts) == 8 and parts[0] == "1" and parts[3].isdigit() and int(parts[3]) > 0 else 1


def upgrade() -> None:
    attempts = op.create_table('quiz_attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('resource_link_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('module_id', sa.String(length=200), nullable=False),
    sa.Column('quiz_id', sa.String(length=200), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('review', sa.JSON(), nullable=True),
    sa.Column('scored_by', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('platform_id', 'resource_link_id', 'user_id', 'number')
    )
    with op.batch_alter_table('progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('checked', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('drawn', sa.JSON(), nullable=True))
    progress = sa.table('progress', sa.column('platform_id', sa.Integer), sa.column('resource_link_id', sa.String),
                        sa.column('user_id', sa.String), sa.column('module_id', sa.String),
                        sa.column('state', sa.Text), sa.column('score', sa.Float),
                        sa.column('updated_at', sa.BigInteger))
    rows = op.get_bind().execute(sa.select(progress).where(progress.c.score.isnot(None))).mappings().all()
    if rows:
        op.bulk_insert(attempts, [
            {"platform_id": r["platform_id"], "resource_link_id": r["resource_link_id"], "user_id": r["user_id"],
             "module_id": r["module_id"], "quiz_id": "", "number": attempts_in(r["state"]), "answers": {},
             "score": r["score"], "review": None, "scored_by": "browser", "created_at": r["updated_at"]}
            for r in rows])


def downgrade() -> None:
    with op.batch_alter_table('progress', schema=None) as batch_op:
        batch_op.drop_column('drawn')
        batch_op.drop_column('checked')
    op.drop_table('quiz_attempts')
