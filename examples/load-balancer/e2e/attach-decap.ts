// Loads decap.bpf.o, attaches it to DEV in generic XDP mode and pins the link at PIN, so the
// decapsulation outlives this process. Usage: attach-decap.ts DEV PIN (run inside the backend's
// network namespace).
import { load } from '../../../lib/index.js';
import { exampleAsset } from '../../common/paths.js';

const [dev, pin] = process.argv.slice(2);
if (!dev || !pin) {
  console.error('usage: attach-decap.ts DEV PIN');
  process.exit(2);
}
const obj = await load(exampleAsset(import.meta.url, '../decap.bpf.o'), { backend: 'kernel' });
const link = obj.program('xdp_decap').attachXdp(dev, { mode: 'skb' });
link.pin(pin);
obj.close();
