/**
 * A tiny code builder for generated JavaScript: lines with indentation, plus the list of runtime
 * values the code refers to by name (passed in as parameters of `new Function`, Ajv style, so
 * generated code never captures closures per instruction).
 */
/** Indentation strings, capped so deeply nested code stays linear in size. */
const INDENT: readonly string[] = Array.from({ length: 17 }, (_, i) => '  '.repeat(i));

export class CodeBuilder {
  private readonly lines: string[] = [];
  private depth = 0;
  private readonly names: string[] = [];
  private readonly values: unknown[] = [];

  /** Emit one line at the current indentation. */
  line(text: string): this {
    this.lines.push(INDENT[Math.min(this.depth, INDENT.length - 1)] + text);
    return this;
  }

  /** Emit `head {`, run `body` indented, emit `}`. */
  block(head: string, body: () => void): this {
    this.line(`${head} {`);
    this.depth++;
    body();
    this.depth--;
    this.line('}');
    return this;
  }

  /** Current nesting level. */
  get level(): number {
    return this.depth;
  }

  indent(): void {
    this.depth++;
  }
  dedent(): void {
    this.depth--;
  }

  /** Make a runtime value available to the generated code under `name`. */
  param(name: string, value: unknown): string {
    const i = this.names.indexOf(name);
    if (i >= 0) {
      if (this.values[i] !== value) throw new Error(`code builder: parameter ${name} bound twice`);
      return name;
    }
    this.names.push(name);
    this.values.push(value);
    return name;
  }

  get source(): string {
    return this.lines.join('\n');
  }

  /**
   * Compile: the body becomes a factory `function (params...) { body }` called with the bound
   * values; returns what the body returns.
   */
  build<T>(): T {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    const factory = new Function(...this.names, this.source) as (...args: unknown[]) => T;
    return factory(...this.values);
  }

  /** The complete factory source, for --dump-js. */
  dump(): string {
    return `function jitFactory(${this.names.join(', ')}) {\n${this.source}\n}`;
  }
}
