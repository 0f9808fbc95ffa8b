// Where an attempt's stored output ends in its run's output (a backend's resume cursor), so a
// worker that takes over a live run follows its logs on from there (SQLite's 0003).
import type pg from 'pg';
import type { Migration } from './index.js';

export const logCursor: Migration = {
  version: 3,
  name: 'log_cursor',
  async up(db: pg.ClientBase): Promise<void> {
    await db.query('ALTER TABLE attempts ADD COLUMN log_cursor TEXT');
  },
};
