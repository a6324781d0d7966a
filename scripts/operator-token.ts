/**
 * `npm run operator:token -- <name> <role>`: a new CLI token for an operator, and the entry
 * for the operators file (SESSIONFLOW_OPERATORS_FILE) that holds only its SHA-256. The token is
 * shown this once, for the operator to keep; the file never holds it.
 */
import { OPERATOR_NAME_PATTERN } from '../src/operators/registry';
import { isOperatorRole, OPERATOR_ROLES } from '../src/operators/roles';
import { newOperatorToken, operatorTokenSha256 } from '../src/operators/tokens';

const [name, role] = process.argv.slice(2);
if (!name || !OPERATOR_NAME_PATTERN.test(name) || !isOperatorRole(role)) {
  process.stderr.write(`usage: npm run operator:token -- <name> <${OPERATOR_ROLES.join('|')}>  (a name of letters, digits, "_", ".", "@" or "-")\n`);
  process.exit(2);
}
const token = newOperatorToken();
process.stdout.write(
  [
    `token for ${name} (shown once: hand it to them, keep no copy):`,
    `  ${token}`,
    'entry for the operators file (add to its array):',
    `  ${JSON.stringify({ name, role, tokenSha256: [operatorTokenSha256(token)] })}`,
    '',
  ].join('\n'),
);
