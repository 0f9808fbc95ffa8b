// A container user → the uid/gid that owns its input files, by the image's passwd and group. Pure.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveOwner } from '../../src/backends/docker/user.js';

const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534::/:/bin/false\napp:x:1000:2000::/home/app:/bin/sh\n# comment\nbroken\n';
const group = 'root:x:0:\nstaff:x:50:\napp:x:2000:\n';

describe('docker container owner', () => {
  it('follows Docker\'s rules for names, uids and groups', () => {
    assert.deepEqual(resolveOwner('', passwd, group), { uid: 0, gid: 0 });
    assert.deepEqual(resolveOwner('app', passwd, group), { uid: 1000, gid: 2000 });
    assert.deepEqual(resolveOwner('1000', passwd, group), { uid: 1000, gid: 2000 });
    assert.deepEqual(resolveOwner('4321', passwd, group), { uid: 4321, gid: 0 });
    assert.deepEqual(resolveOwner('app:staff', passwd, group), { uid: 1000, gid: 50 });
    assert.deepEqual(resolveOwner('4321:99', '', ''), { uid: 4321, gid: 99 });
  });

  it('knows nothing of names the image does not have', () => {
    assert.equal(resolveOwner('ghost', passwd, group), undefined);
    assert.equal(resolveOwner('app:ghosts', passwd, group), undefined);
  });
});
