// Shoppers browsing the shop: each virtual user loads the home page, then a product page, and
// thinks for a moment between them. Typed by @types/k6; gameday bundles it into one module.
import { check, sleep } from 'k6';
import http from 'k6/http';
import type { Options } from 'k6/options';

export const options: Options = {
  vus: 10,
  // gameday stops k6 when the run ends; this only bounds a k6 left running on its own.
  duration: '10m',
};

// On this machine (a local k6) the NodePort; in a pod (k6 run as a Job) the Service's DNS name.
const base: string = __ENV.BASE_URL ?? (__ENV.KUBERNETES_SERVICE_HOST ? 'http://web.shop.svc.cluster.local' : 'http://127.0.0.1:30080');

export default function (): void {
  for (const path of ['/', '/products/42']) {
    const res = http.get(`${base}${path}`, { timeout: '2s' });
    check(res, { 'answered 200': (r) => r.status === 200 });
    sleep(0.2);
  }
}
