import type { Page } from 'playwright-core';

/** A user who buys: the checkout page's button reveals the confirmation. */
export default async (page: Page): Promise<void> => {
  await page.getByRole('button', { name: 'Buy' }).click();
  await page.getByText('Thank you for your order').waitFor({ state: 'visible' });
};
