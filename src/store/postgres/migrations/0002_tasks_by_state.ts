// Counting tasks by state (queueStats, for /metrics) reads this index instead of every task
// row with its plan (SQLite's 0002).
import type pg from 'pg';
import type { Migration } from './index.js';

export const tasksByState: Migration = {
  version: 2,
  name: 'tasks_by_state',
  async up(db: pg.ClientBase): Promise<void> {
    await db.query('CREATE INDEX tasks_by_state ON tasks (state)');
  },
};
