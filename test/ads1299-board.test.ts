/** The `ads1299` source in a board file: the schema and the Validator agree, and the spi.device selector. */
import test from 'ava';
import { loadBoardSchema, schemaProblems } from '../src/boards/schema.js';
import { validateBoard } from '../src/boards/load.js';
import { FakeAds1299 } from '../src/hal/spi-fake.js';
import { openSpi } from '../src/hal/spi.js';
import { shipped, validatorSays, type Json } from './board-helpers.js';

const schema = loadBoardSchema();

/** rpi5.json with its bridge source replaced by the ADC on its SPI bus. */
function rpi5Ads(source: Json): Json {
  return { ...shipped('rpi5'), source };
}

test('an ads1299 source on rpi5: both accept it, every optional key', (t) => {
  const ok = rpi5Ads({
    kind: 'ads1299',
    rate: 2000,
    channels: 4,
    gain: 12,
    input: 'normal',
    gains: [24, 24, 1, 2],
    inputs: ['normal', 'test', 'shorted', 'normal'],
    blockSamples: 8,
  });
  t.deepEqual(schemaProblems(ok, schema), []);
  t.is(validatorSays(ok), undefined);
  const b = validateBoard(ok);
  t.like(b.source, { kind: 'ads1299', rate: 2000, channels: 4, gains: [24, 24, 1, 2] });
  t.deepEqual(schemaProblems(rpi5Ads({ kind: 'ads1299', rate: 250, channels: 8 }), schema), []);
});

test('broken ads1299 sources: both refuse them, naming the key', (t) => {
  const cases: Array<[Json, string]> = [
    [{ kind: 'ads1299', rate: 300, channels: 8 }, 'source.rate'],
    [{ kind: 'ads1299', rate: 250, channels: 9 }, 'source.channels'],
    [{ kind: 'ads1299', rate: 250, channels: 8, gain: 3 }, 'source.gain'],
    [{ kind: 'ads1299', rate: 250, channels: 8, input: 'bias' }, 'source.input'],
    [{ kind: 'ads1299', rate: 250, channels: 2, gains: [24, 5] }, 'source.gains[1]'],
    [{ kind: 'ads1299', rate: 250, channels: 8, path: '/dev/x' }, 'source.path'],
  ];
  for (const [source, key] of cases) {
    const raw = rpi5Ads(source);
    const problems = schemaProblems(raw, schema);
    t.true(
      problems.some((p) => p.path === key),
      `schema on ${JSON.stringify(source)}: ${JSON.stringify(problems)}`,
    );
    t.true(validatorSays(raw)?.includes(`"${key}"`), `validator on ${JSON.stringify(source)}: ${validatorSays(raw)}`);
  }
});

test('cross-field: gains per channel and the spi section, refused by the Validator', (t) => {
  t.regex(validatorSays(rpi5Ads({ kind: 'ads1299', rate: 250, channels: 3, gains: [24, 24] })) ?? '', /"source.gains" has 2 entries for 3 channels/);
  const noSpi = rpi5Ads({ kind: 'ads1299', rate: 250, channels: 8 });
  delete noSpi.spi;
  t.regex(validatorSays(noSpi) ?? '', /"spi" is required by source.kind "ads1299"/);
});

test('spi.device selector: fake:ads1299 is the model, another fake is refused, a real one needs spi-device', async (t) => {
  const opts = { mode: 1, speedHz: 4_000_000, bus: 0, chipSelect: 0 };
  const dev = await openSpi('fake:ads1299', opts);
  t.true(dev instanceof FakeAds1299);
  dev.close();
  const other = await t.throwsAsync(openSpi('fake:ads1298', opts));
  t.is((other as { code?: string }).code, 'E_SPI_IO');
  // spi-device is an optional dependency: without it the message names the install; with it, no spidev here.
  const pkg = 'spi-device';
  const installed = await import(pkg).then(
    () => true,
    () => false,
  );
  const err = await t.throwsAsync(openSpi('/dev/spidev0.0', opts));
  t.is((err as { code?: string }).code, installed ? 'E_SPI_IO' : 'E_SPI_UNAVAILABLE');
  if (!installed) t.regex(err.message, /npm install spi-device/);
});
