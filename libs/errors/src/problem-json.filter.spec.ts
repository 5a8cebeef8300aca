import { BadRequestException, NotFoundException } from '@nestjs/common';
import { DomainError, type ErrorKind } from './domain-error';
import { toProblem } from './problem-json.filter';

class TestError extends DomainError<'thing_taken'> {
  readonly kind: ErrorKind = 'conflict';
}

describe(toProblem.name, () => {
  it('maps a domain error by its kind and keeps its code', () => {
    expect(toProblem(new TestError('thing_taken', 'taken'), 'req-1')).toMatchObject({
      status: 409,
      code: 'thing_taken',
      detail: 'taken',
      requestId: 'req-1',
      type: 'urn:murmur:problem:thing_taken',
    });
  });

  it('lists validation messages', () => {
    const p = toProblem(new BadRequestException({ message: ['text must be 1-500 characters'] }));
    expect(p).toMatchObject({
      status: 400,
      code: 'validation_failed',
      errors: ['text must be 1-500 characters'],
    });
  });

  it('maps Fastify body errors to 4xx, not 500', () => {
    const badJson = Object.assign(new SyntaxError('Unexpected token'), {
      statusCode: 400,
      code: 'FST_ERR_CTP_INVALID_JSON_BODY',
    });
    expect(toProblem(badJson)).toMatchObject({ status: 400, code: 'malformed_json' });
    const tooLarge = Object.assign(new Error('Request body is too large'), {
      statusCode: 413,
      code: 'FST_ERR_CTP_BODY_TOO_LARGE',
    });
    expect(toProblem(tooLarge)).toMatchObject({ status: 413, code: 'body_too_large' });
    expect(toProblem(new NotFoundException())).toMatchObject({ status: 404 });
  });

  it('hides the text of unexpected errors', () => {
    const p = toProblem(new Error('password=hunter2 leaked in a stack'));
    expect(p.status).toBe(500);
    expect(JSON.stringify(p)).not.toContain('hunter2');
  });
});

describe('malformed JSON wrapped by Nest', () => {
  it('is reported as malformed_json', () => {
    const wrapped = new BadRequestException(
      "Body is not valid JSON but content-type is set to 'application/json'",
    );
    expect(toProblem(wrapped)).toMatchObject({ status: 400, code: 'malformed_json' });
  });
});
