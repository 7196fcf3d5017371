import { StackdbError } from '@stackdb/core';

/** The process is not a PHP the overlay can read, or its engine's state makes no sense. */
export class PhpError extends StackdbError {
  constructor(message: string) {
    super('ERR_PHP', `php: ${message}`);
  }
}
