import { userInfo } from 'node:os';

/** Who runs an operator CLI, as an audit actor: the OS account (the organisation's, not a data subject's). */
export function cliActor(): string {
  return `cli:${userInfo().username.replace(/[^A-Za-z0-9_.@-]/g, '_').slice(0, 64)}`;
}
