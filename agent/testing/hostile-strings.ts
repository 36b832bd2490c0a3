// fast-check arbitraries of strings that change meaning somewhere between us and
// the node: YAML 1.1 booleans, nulls, sexagesimals, numbers, dates and indicators
// (PyYAML reads them as something other than the string), unicode line breaks,
// quotes and escapes, MIME boundary-looking lines — alone, glued to each other, and
// mixed with arbitrary unicode.
import fc from 'fast-check';

/** Each one is read as a non-string, a different string, or an error by some YAML 1.1 reader. */
export const YAML11_TRAPS: readonly string[] = [
  // booleans and nulls, in the case variants YAML 1.1 lists and a few it does not
  'yes', 'Yes', 'YES', 'yEs', 'no', 'No', 'NO', 'y', 'Y', 'n', 'N', 'on', 'On', 'ON', 'off', 'Off', 'OFF',
  'true', 'True', 'TRUE', 'false', 'False', 'FALSE', '~', 'null', 'Null', 'NULL', '',
  // sexagesimals (a MAC address is one), octal/binary/hex, underscores, floats
  '12:30:45', '52:54:00:12:34:56', '190:20:30.15', '1:2', '-1:20', '+1:0', '0b101', '0b_1', '0o17', '017', '0x1F', '0x_1',
  '1_000', '+12', '-0', '1e3', '1.5e3', '6.8523015e+5', '685.230_15e+03', '1.', '.5', '+.5', '.inf', '-.Inf', '+.INF',
  '.nan', '.NaN', '.NAN',
  // timestamps
  '2024-01-02', '2001-12-14t21:59:43.10-05:00', '2001-12-14 21:59:43.10 -5', '2002-12-14', '2001-12-15T02:59:43.1Z',
  // merge, value, tags, anchors, directives, indicators
  '<<', '=', '!', '!!str x', '!!python/object:os.system', '&a', '*a', '%YAML 1.1', '%', '@x', '`x`', '{a: b}', '{', '}',
  '[a]', '[', ']', '- x', '-', '? x', '?', ':', 'a:', ': a', '|', '|-', '>', '>+', '---', '...', '--- x', ',', '#',
  '# x', 'a #b', 'a# b', 'a: b', 'a:b', 'key: "v"', 'x\n- y',
  // whitespace and quotes
  ' ', ' lead', 'trail ', '\t', 'tab\tin', '"', '"q"', "'", "'s'", "it's", 'back\\slash', '\\n', '\\', '\\x41',
  // line breaks YAML 1.1 knows and JSON does not, and other code points PyYAML refuses raw
  '\n', '\r', '\r\n', 'a\nb', 'a\rb', '\u0085', 'a\u0085b', '\u2028', 'a\u2028b', '\u2029', 'a\u2029b', '\x7f', '\x00',
  '\x1b[31m', '\x08', '\x0c', '\x9b', '\ufeff', '\ufeffx', '\u00a0', '\u200b', '\ufffe', '\uffff', 'é', '😀', 'Ω≈ç',
  // MIME: boundary-looking lines, headers, line ends
  '--===============fuel-forge-0123456789abcdef01234567==', '--===============fuel-forge-', '--', '--\n', '\n--\n',
  '--==--', 'Content-Type: text/x-shellscript', 'MIME-Version: 1.0', 'From x', '=?utf-8?b?eWVz?=', '=0A', '.\r\n.',
  // shell and config-file syntax that must arrive untouched
  '$(id)', '${HOME}', ';', '&&', '|| true', '<x>', 'a=b', '[main]', '%(x)s', '{{hostname}}', '{{=users}}',
];

/** Separators that glue traps together into one value. */
const GLUE = ['', ' ', '\n', ': ', ' #', '\t', '\u2028', '\u0085', '\r\n', ',', '-', '\n--'];

/** One hostile string: a trap, a few glued together, or arbitrary unicode (all planes, or C0/C1 controls). */
export function hostileString(): fc.Arbitrary<string> {
  const trap = fc.constantFrom(...YAML11_TRAPS);
  const piece = fc.oneof(
    { weight: 4, arbitrary: trap },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 8 }) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const glued = fc
    .tuple(piece, fc.array(fc.tuple(fc.constantFrom(...GLUE), piece), { maxLength: 3 }))
    .map(([first, rest]) => first + rest.map(([g, p]) => g + p).join(''));
  return fc.oneof({ weight: 2, arbitrary: trap }, { weight: 3, arbitrary: glued });
}

/** A hostile string without CR/LF: what single-line fields may plausibly pass validation with. */
export function hostileLine(): fc.Arbitrary<string> {
  return hostileString().map((s) => s.replace(/[\r\n]/g, ''));
}
