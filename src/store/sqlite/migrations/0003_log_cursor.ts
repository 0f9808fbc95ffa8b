// Where an attempt's stored output ends in its run's output (a backend's resume cursor), so a
// worker that takes over a live run follows its logs on from there without repeating a line.
import type Database from 'better-sqlite3';
import type { Migration } from './index.js';

export const logCursor: Migration = {
  version: 3,
  name: 'log_cursor',
  up(db: Database.Database): void {
    db.exec('ALTER TABLE attempts ADD COLUMN log_cursor TEXT');
  },
};
