import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { dialects, ok, spec } from './helpers.js';

for (const d of dialects) {
  describe(d.name, () => {
    it('createJobOnce makes one job per key, gives it back for the same spec, refuses another spec', async () => {
      const store = await d.open();
      try {
        const first = ok(await store.createJobOnce(spec({ a: {} }), { defaultBackend: 'local', key: 'k-1' }));
        assert.equal(first.created, true);
        const again = ok(await store.createJobOnce(spec({ a: {} }), { defaultBackend: 'local', key: 'k-1' }));
        assert.deepEqual(again, { job: first.job, created: false });
        const other = await store.createJobOnce(spec({ b: {} }), { defaultBackend: 'local', key: 'k-1' });
        assert.equal(other.ok, false);
        assert.match(!other.ok ? other.error.message : '', new RegExp(`"k-1" was used for job ${first.job.id}, submitted with another job file`));
        assert.equal(ok(await store.createJobOnce(spec({ a: {} }), { defaultBackend: 'local', key: 'k-2' })).created, true);
        assert.equal((await store.listJobs({ limit: 10 })).jobs.length, 2);
      } finally {
        await store.close();
      }
    });

    it('many stores racing on one key make exactly one job', async () => {
      const db = await d.database();
      const stores = await Promise.all([1, 2, 3, 4].map(() => db.open()));
      try {
        const results = await Promise.all(stores.flatMap((s) => [1, 2, 3, 4, 5].map(() => s.createJobOnce(spec({ a: {} }), { defaultBackend: 'local', key: 'race' }))));
        const values = results.map(ok);
        assert.equal(values.filter((v) => v.created).length, 1);
        assert.equal(new Set(values.map((v) => v.job.id)).size, 1);
        assert.equal((await stores[0]?.listJobs({ limit: 10 }))?.jobs.length, 1);
      } finally {
        for (const s of stores) await s.close();
        await db.cleanup();
      }
    });
  });
}
