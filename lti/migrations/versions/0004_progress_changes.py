"""audit trail of progress rows: who changed what, when, from which launch

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('progress_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('platform_id', sa.Integer(), nullable=False),
    sa.Column('resource_link_id', sa.String(length=255), nullable=False),
    sa.Column('user_id', sa.String(length=255), nullable=False),
    sa.Column('actor_id', sa.String(length=255), nullable=False),
    sa.Column('launch_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('kept', sa.JSON(), nullable=False),
    sa.Column('gradebook', sa.Float(), nullable=True),
    sa.Column('created_at', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['platform_id'], ['platforms.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('progress_changes', schema=None) as batch_op:
        batch_op.create_index('ix_progress_changes_learner', ['platform_id', 'resource_link_id', 'user_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('progress_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_progress_changes_learner')
    op.drop_table('progress_changes')
