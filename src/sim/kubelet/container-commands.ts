import { awk } from './shell-awk.js';
import { CORE_COMMANDS, type Command } from './shell-commands.js';
import { tar } from './shell-tar.js';
import { NETWORK_COMMANDS } from './shell-network-commands.js';
import { TEXT_COMMANDS } from './shell-text-commands.js';

/** The programs every embedded container has, by name; a path like /bin/df finds the same one. */
export const COMMANDS: ReadonlyMap<string, Command> = new Map<string, Command>([...CORE_COMMANDS, ...TEXT_COMMANDS, ...NETWORK_COMMANDS, ['awk', awk], ['tar', tar]]);
