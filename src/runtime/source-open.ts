/** Opens a board's EMG source: the firmware bridge (a port, or the simulated board), a Cyton or an ADS1299 on SPI. */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BoardDef } from '../boards/types.js';
import { SimFirmwareSupervisor } from '../devices/sim/firmware-supervisor.js';
import type { Source, SourceOptions } from './source.js';
import { BridgeSource } from './source-bridge.js';
import { Ads1299Source } from './source-ads1299.js';
import { CytonSource } from './source-cyton.js';

export async function openSource(board: BoardDef, opts: SourceOptions): Promise<Source> {
  const src = board.source;
  if (src.kind === 'cyton') return new CytonSource(board, opts);
  if (src.kind === 'ads1299') return new Ads1299Source(board, opts);
  if (src.transport !== 'sim') return new BridgeSource(board, src.path, null, opts);
  // Supervised: a firmware that dies is restarted like a replugged board (devices/sim/firmware-supervisor.ts).
  const sim = await SimFirmwareSupervisor.start({
    firmware: {
      rate: src.rate,
      channels: src.channels,
      ...(src.blockSamples !== undefined && { block: src.blockSamples }),
      // A stable path like /dev/serial/by-id: the link reopens it after a simulated unplug.
      link: join(tmpdir(), `reflex-sim-${process.pid}-${Date.now()}`),
      ...(src.firmwareArgs && { extraArgs: src.firmwareArgs }),
    },
  });
  return new BridgeSource(board, sim.linkPath, sim, opts);
}
