import { describe, expect, it } from 'vitest';
import { STACK_DEFAULTS } from '../../../lib/config';
import { LocalOptionsError, parseLocalOptions } from '../../../lib/local/local-options';

describe('npm start options', () => {
  it('defaults to the stack’s worker concurrency and batch size, port 3000 and a 60 s sweep', () => {
    expect(parseLocalOptions([])).toStrictEqual({
      zohoBaseUrl: undefined,
      connectionFiles: [],
      demoConnections: 1,
      port: 3000,
      portGiven: false,
      workerConcurrency: STACK_DEFAULTS.workerConcurrency,
      batchSize: STACK_DEFAULTS.batchSize,
      sweepEverySeconds: 60,
      publicBaseUrl: undefined,
    });
  });

  it('takes one connection per --connection, in order, with --zoho and --sweep-every', () => {
    expect(
      parseLocalOptions([
        '--connection',
        'a.json',
        '--zoho',
        'http://127.0.0.1:9000/',
        '--connection',
        'b.json',
        '--sweep-every',
        '5',
      ]),
    ).toMatchObject({
      connectionFiles: ['a.json', 'b.json'],
      zohoBaseUrl: 'http://127.0.0.1:9000',
      sweepEverySeconds: 5,
    });
  });

  it('still takes a single --connection as before', () => {
    expect(parseLocalOptions(['--connection', 'only.json'])).toMatchObject({
      connectionFiles: ['only.json'],
    });
  });

  it('generates several demo connections with --connections', () => {
    expect(parseLocalOptions(['--connections', '3', '--port', '0'])).toMatchObject({
      demoConnections: 3,
      port: 0,
      portGiven: true,
    });
  });

  it.each([
    [['--connections', '2', '--connection', 'a.json'], /--connections generates demo connections/],
    [['--sweep-every', 'soon'], /--sweep-every must be a whole number/],
    [['--concurrency', '0'], /--concurrency must be a whole number from 1/],
    [['--zoho', 'ftp://example.com'], /--zoho must be an http\(s\) URL/],
    [['--bogus'], /bogus/],
  ])('refuses %j', (args, message) => {
    expect(() => parseLocalOptions(args)).toThrow(LocalOptionsError);
    expect(() => parseLocalOptions(args)).toThrow(message);
  });

  it('answers --help', () => {
    expect(parseLocalOptions(['--help'])).toBe('help');
  });
});
