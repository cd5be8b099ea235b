import test from 'ava';
import { createBlock, type SampleBlock } from '../src/core/block.js';
import {
  Bandpass,
  buildUnit,
  butterBandpass,
  butterHighpass,
  butterLowpass,
  Decimate,
  Envelope,
  Highpass,
  Lowpass,
  Normalize,
  Notch,
  Rms,
  sosGain,
  type Unit,
} from '../src/units/index.js';

function sine(freq: number, rate: number, seconds: number, amplitude = 1, channels = 1): SampleBlock {
  const n = Math.round(rate * seconds);
  const b = createBlock({ stream: 'emg', channels, samples: n, rate });
  for (let c = 0; c < channels; c++) for (let i = 0; i < n; i++) b.data[c * n + i] = amplitude * Math.sin((2 * Math.PI * freq * i) / rate);
  return b;
}

/** RMS of channel 0 over the last `fraction` of the block (after the filter has settled). */
function tailRms(b: SampleBlock, fraction = 0.5): number {
  const start = Math.floor(b.samples * (1 - fraction));
  let s = 0;
  for (let i = start; i < b.samples; i++) s += b.data[i]! ** 2;
  return Math.sqrt(s / (b.samples - start));
}

/** Measured amplitude gain of a unit for a sine at `freq`. */
function gain(unit: Unit, freq: number, rate: number): number {
  unit.reset();
  const out = unit.process(sine(freq, rate, 2));
  return tailRms(out) / (1 / Math.SQRT2);
}

const db = (g: number) => 20 * Math.log10(g);

// Reference values from scipy 1.17 (signal.butter(..., output='sos') and sosfreqz), computed
// once on a dev machine; they check our own bilinear design, not a copy of scipy's code.
test('band-pass design matches scipy butter poles and response', (t) => {
  const sos = butterBandpass(20, 450, 2000, 4);
  const ours = [];
  for (let i = 0; i < sos.length; i += 5) ours.push([sos[i + 3]!, sos[i + 4]!]);
  ours.sort((a, b) => a[0]! - b[0]!);
  const scipy = [
    [-1.9516001944028154, 0.9555335061459913],
    [-1.8805833029749925, 0.8848214006208994],
    [-0.24489098121705158, 0.4773969314979959],
    [-0.23229445475416327, 0.0584632902836265],
  ];
  ours.forEach((p, i) => {
    t.true(Math.abs(p[0]! - scipy[i]![0]!) < 1e-12 && Math.abs(p[1]! - scipy[i]![1]!) < 1e-12, `section ${i}: ${p.join(',')} vs ${scipy[i]!.join(',')}`);
  });
  const expect: Array<[number, number]> = [
    [10, 0.055679739321091194],
    [60, 0.999996050374977],
    [150, 0.9999998252185633],
    [300, 0.995507695376972],
  ];
  for (const [f, g] of expect) t.true(Math.abs(sosGain(sos, f, 2000) - g) < 1e-9, `${f} Hz`);
  // Odd order with a wide band: the transform yields real poles, which must pair up correctly.
  const odd = butterBandpass(100, 400, 1000, 3);
  const oddExpect: Array<[number, number]> = [
    [10, 0.0006493405109237713],
    [60, 0.15975399300865545],
    [150, 0.9893555104171284],
    [300, 0.999913476095019],
  ];
  for (const [f, g] of oddExpect) t.true(Math.abs(sosGain(odd, f, 1000) - g) < 1e-9, `odd ${f} Hz: ${sosGain(odd, f, 1000)}`);
});

test('low- and high-pass designs match scipy responses', (t) => {
  const lp = butterLowpass(100, 1000, 5);
  const lpExpect: Array<[number, number]> = [
    [10, 0.9999999999641793],
    [60, 0.9975761478485188],
    [150, 0.10486956245614219],
    [300, 0.0007331372388302808],
  ];
  for (const [f, g] of lpExpect) t.true(Math.abs(sosGain(lp, f, 1000) - g) < 1e-9, `lp ${f} Hz`);
  const hp = butterHighpass(30, 1000, 3);
  const hpExpect: Array<[number, number]> = [
    [10, 0.036720304384760684],
    [60, 0.9926783091333634],
    [150, 0.9999796145829118],
    [300, 0.999999947532016],
  ];
  for (const [f, g] of hpExpect) t.true(Math.abs(sosGain(hp, f, 1000) - g) < 1e-9, `hp ${f} Hz`);
});

test('band-pass passes the band and rejects outside it (measured on sines)', (t) => {
  const bp = new Bandpass({ low: 20, high: 450, order: 4 });
  for (const f of [60, 150, 300]) t.true(Math.abs(db(gain(bp, f, 2000))) < 0.1, `${f} Hz passband gain ${gain(bp, f, 2000)}`);
  t.true(Math.abs(gain(bp, 20, 2000) - Math.SQRT1_2) < 0.01, 'low edge -3 dB');
  t.true(Math.abs(gain(bp, 450, 2000) - Math.SQRT1_2) < 0.01, 'high edge -3 dB');
  t.true(db(gain(bp, 4, 2000)) < -40, `4 Hz: ${db(gain(bp, 4, 2000))} dB`);
  t.true(db(gain(bp, 900, 2000)) < -60, `900 Hz: ${db(gain(bp, 900, 2000))} dB`);
});

test('low-pass and high-pass have -3 dB at the cutoff and roll off', (t) => {
  const lp = new Lowpass({ cutoff: 100, order: 4 });
  t.true(Math.abs(gain(lp, 100, 1000) - Math.SQRT1_2) < 0.01);
  t.true(Math.abs(db(gain(lp, 20, 1000))) < 0.05);
  t.true(db(gain(lp, 400, 1000)) < -45);
  const hp = new Highpass({ cutoff: 20, order: 2 });
  t.true(Math.abs(gain(hp, 20, 1000) - Math.SQRT1_2) < 0.01);
  t.true(Math.abs(db(gain(hp, 200, 1000))) < 0.05);
  t.true(db(gain(hp, 2, 1000)) < -35);
});

test('notch removes mains and harmonics by more than 30 dB and keeps nearby frequencies', (t) => {
  const n50 = new Notch({ mains: 50, harmonics: 3, q: 30 });
  for (const f of [50, 100, 150]) t.true(db(gain(n50, f, 2000)) < -30, `${f} Hz: ${db(gain(n50, f, 2000))} dB`);
  t.true(Math.abs(db(gain(n50, 80, 2000))) < 0.5, '80 Hz kept');
  t.true(Math.abs(db(gain(n50, 200, 2000))) < 0.5, '4th harmonic not notched when harmonics = 3');
  const n60 = new Notch({ mains: 60, harmonics: 1, q: 10 });
  t.true(db(gain(n60, 60, 1000)) < -30);
  t.true(db(gain(n60, 50, 1000)) > -3, 'q = 10 is about 6 Hz wide');
  // Harmonics at or above Nyquist are skipped instead of designing a broken section.
  const high = new Notch({ mains: 50, harmonics: 10, q: 30 });
  high.process(sine(10, 250, 0.1));
  t.is(high.sos!.length / 5, 2);
});

test('RMS and envelope track a sine amplitude', (t) => {
  const rate = 1000;
  const rms = new Rms({ length: 100 });
  t.true(Math.abs(rms.process(sine(50, rate, 1, 2)).data[999]! - Math.SQRT2) < 1e-4);
  const envLp = new Envelope({ method: 'lowpass', cutoff: 3, order: 2 });
  t.true(Math.abs(tailRms(envLp.process(sine(80, rate, 4, 1)), 0.25) - 2 / Math.PI) < 0.01, 'rectified mean of a unit sine is 2/pi');
  const envRms = new Envelope({ method: 'rms', length: 200 });
  const out = envRms.process(sine(25, rate, 1, 3));
  t.is(out.data[0], Math.fround(Math.sqrt((3 * Math.sin(0)) ** 2 / 200)));
  t.true(Math.abs(out.data[999]! - 3 / Math.SQRT2) < 1e-4);
});

test('decimate keeps low frequencies, suppresses what would alias, and retimes the output', (t) => {
  const dec = new Decimate({ factor: 4, order: 8, cutoff: null });
  const low = sine(10, 1000, 2);
  low.firstSample = 4000;
  low.hostTimeMs = 100;
  low.deviceTimeUs = 7_000_000;
  const out = dec.process(low);
  t.is(out.rate, 250);
  t.is(out.samples, 500);
  t.is(out.firstSample, 1000);
  t.is(out.hostTimeMs, 100);
  t.is(out.hostPeriodMs, 4);
  t.true(Math.abs(tailRms(out) - Math.SQRT1_2) < 0.01);
  dec.reset();
  // 240 Hz at 1 kHz would alias to 10 Hz at 250 Hz; the anti-alias filter must remove it.
  t.true(tailRms(dec.process(sine(240, 1000, 2))) < 0.01);
});

test('fixed normalisation is exact and running normalisation converges', (t) => {
  const fixed = buildUnit({ unit: 'normalize', mode: 'fixed', mean: [1, -2], std: [2, 4] });
  const b = createBlock({ stream: 'x', channels: 2, samples: 2, rate: 100, data: Float32Array.of(1, 5, -2, 6) });
  t.deepEqual(Array.from(fixed.process(b).data), [0, 2, 0, 2]);
  const running = new Normalize({ mode: 'running', tau: 1, minStd: 1e-6 });
  const n = 20_000;
  const x = createBlock({ stream: 'x', channels: 1, samples: n, rate: 1000 });
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    x.data[i] = 50 + 8 * ((s / 2 ** 31) * 2 - 1) * Math.sqrt(3); // uniform, std 8
  }
  const y = running.process(x);
  t.is(y.data[0], 0, 'the first sample maps to 0');
  let m = 0;
  let v = 0;
  for (let i = n / 2; i < n; i++) m += y.data[i]!;
  m /= n / 2;
  for (let i = n / 2; i < n; i++) v += (y.data[i]! - m) ** 2;
  v /= n / 2;
  t.true(Math.abs(m) < 0.1, `mean ${m}`);
  t.true(Math.abs(Math.sqrt(v) - 1) < 0.1, `std ${Math.sqrt(v)}`);
});
