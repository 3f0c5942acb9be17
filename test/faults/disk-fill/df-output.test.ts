import { expect } from 'chai';
import { parseDfOutput } from '../../../src/faults/disk-fill/df-output.js';

describe('df output as GNU coreutils and busybox print it', () => {
  it('reads --output=size,used,avail,target in bytes', () => {
    const gnu = '    1B-blocks      Used     Avail Mounted on\n  67108864  53687092  13421772 /data\n';
    expect(parseDfOutput(gnu)).to.deep.equal({ capacityBytes: 67108864, usedBytes: 53687092, availableBytes: 13421772, mountedOn: '/data' });
  });

  it('reads POSIX -P -k output in kilobytes, mount points with spaces included', () => {
    const busybox = 'Filesystem           1024-blocks    Used Available Capacity Mounted on\n/dev/sda1                65536     1024     64512   2% /mnt/my data\n';
    expect(parseDfOutput(busybox)).to.deep.equal({ capacityBytes: 65536 * 1024, usedBytes: 1024 * 1024, availableBytes: 64512 * 1024, mountedOn: '/mnt/my data' });
  });

  it('refuses what it cannot read', () => {
    expect(parseDfOutput('df: /x: No such file or directory\n')).to.equal(undefined);
    expect(parseDfOutput('Filesystem 1024-blocks Used\nnonsense\n')).to.equal(undefined);
  });
});
