// The Services page in the browser test (ui_test.mjs calls it as the user, on the real mesh): a
// project and a 2-replica service made through the forms, both replicas seen running (the row is
// redrawn from the WebSocket's service-reconcile and container events: nothing polls), scaled to
// 1, then the service and the project deleted after their confirmations. Returns what it took.
import assert from 'node:assert/strict';

const PROJECT = 'uiproj';
const SERVICE = `${PROJECT}/web`;

export async function servicesStep(page, shot) {
  const started = Date.now();
  const row = page.locator(`#services-table tr[data-service="${SERVICE}"]`);
  await page.click('#tabs button[data-tab=services]');
  await page.locator('#services-view').waitFor({ state: 'visible' });
  await page.fill('#project-name', PROJECT);
  await page.click('#project-submit');
  await page.locator(`#projects-list li[data-project=${PROJECT}]`).waitFor();
  // A bad name is refused on its field before anything is sent.
  await page.fill('#service-name', 'Web_1');
  await page.fill('#service-image', 'local/busybox:latest');
  await page.click('#service-submit');
  await page.locator('#service-form label.invalid[data-field=name]').waitFor();
  await page.fill('#service-name', 'web');
  await page.fill('#service-replicas', '2');
  await page.fill('#service-cmd', 'sleep 3600');
  await page.click('#service-submit');
  await row.waitFor();
  await page.locator(`#services-table tr[data-service="${SERVICE}"][data-state=ok][data-running="2"]`)
    .waitFor({ timeout: 30000 });
  const hosts = await row.locator('.hosts').innerText();
  assert.match(hosts, /: [12]/, `replicas per host shown: ${hosts}`);
  assert.equal(await row.locator('.counts').innerText(), '2/2 running');
  await shot(page, 'services-running');
  await row.locator('input.replicas-input').fill('1');
  await row.locator('button[data-action=scale]').click();
  await page.locator(`#services-table tr[data-service="${SERVICE}"][data-state=ok][data-running="1"]`)
    .waitFor({ timeout: 30000 });
  assert.equal(await row.locator('.counts').innerText(), '1/1 running');
  await shot(page, 'services-scaled');
  await row.locator('button[data-action=delete]').click();
  await page.click('#confirm-yes');
  await row.waitFor({ state: 'detached' });
  await page.locator(`#projects-list li[data-project=${PROJECT}] button[data-action="delete project"]`).click();
  await page.click('#confirm-yes');
  await page.locator(`#projects-list li[data-project=${PROJECT}]`).waitFor({ state: 'detached' });
  assert.equal(await page.locator('#services-error').innerText(), '');
  return Date.now() - started;
}
