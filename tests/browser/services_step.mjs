// The Services page in the browser test (ui_test.mjs calls it as the user, on the real mesh): a
// project and a 2-replica service made through the forms, both replicas seen running (the row is
// redrawn from the WebSocket's service-reconcile and container events: nothing polls), scaled to
// 1, updated through the row's update form (a new command: the service-update job's line ends
// "Generation 2 rolled out"), updated to a command that exits (the job ends failed, the row says
// "rolled back: ..."), then the service and the project deleted after their confirmations. The
// update policy's running gate is set to 1 s through the API first (the form leaves policies
// alone; the default 5 s would only make the test slower). Returns what it took.
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
  await updateSteps(page, row, shot);
  await row.locator('button[data-action=delete]').click();
  await page.click('#confirm-yes');
  await row.waitFor({ state: 'detached' });
  await page.locator(`#projects-list li[data-project=${PROJECT}] button[data-action="delete project"]`).click();
  await page.click('#confirm-yes');
  await page.locator(`#projects-list li[data-project=${PROJECT}]`).waitFor({ state: 'detached' });
  assert.equal(await page.locator('#services-error').innerText(), '');
  return Date.now() - started;
}

async function updateSteps(page, row, shot) {
  const id = await page.evaluate(async (label) => {
    const auth = { Authorization: `Bearer ${sessionStorage.getItem('dm_token')}` };
    const list = await (await fetch('/api/v1/services', { headers: auth })).json();
    const svc = list.services.find((x) => `${x.project_name}/${x.name}` === label);
    const r = await fetch(`/api/v1/services/${svc.id}`, { method: 'PATCH',
      headers: { ...auth, 'Content-Type': 'application/json' }, body: JSON.stringify({ update: { running_s: 1 } }) });
    return r.ok && !(await r.json()).job ? svc.id : '';  // a policy change: no job
  }, SERVICE);
  assert.ok(id, 'the running gate set to 1 s without a job');
  const status = page.locator('#update-status span');
  await row.locator('button[data-action=update]').click();
  await page.locator('#update-form').waitFor({ state: 'visible' });
  assert.equal(await page.inputValue('#update-cmd'), 'sleep 3600');
  // Nothing changed: refused in the page.
  await page.click('#update-submit');
  await page.locator('#update-form label.invalid[data-field=image]').waitFor();
  await page.fill('#update-cmd', 'sleep 3601');
  await page.click('#update-submit');
  await page.locator('#update-status span[data-job-state=done]').waitFor({ timeout: 30000 });
  assert.match(await status.innerText(), /^Generation 2 rolled out: 1\/1 updated\.$/);
  await page.locator(`#services-table tr[data-service="${SERVICE}"][data-generation="2"][data-update=done]`).waitFor();
  await shot(page, 'services-updated');
  await row.locator('button[data-action=update]').click();
  assert.equal(await page.inputValue('#update-cmd'), 'sleep 3601');
  await page.fill('#update-cmd', 'sh -c "exit 3"');
  await page.click('#update-submit');
  await page.locator('#update-status span[data-job-state=failed]').waitFor({ timeout: 30000 });
  assert.match(await status.innerText(), /^Generation 3 failed: rolled back: /);
  await page.locator(`#services-table tr[data-service="${SERVICE}"][data-update=rolled-back]`).waitFor();
  assert.match(await row.locator('.update').innerText(), /^rolled back: /);
  await shot(page, 'services-rolled-back');
  await page.click('#update-cancel');
  await page.locator('#update-form').waitFor({ state: 'hidden' });
}
