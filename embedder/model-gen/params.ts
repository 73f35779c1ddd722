/**
 * Registers a tower's weights as graph initializers. Each weight has a
 * layout-independent logical name that also names its random stream, so the
 * Hugging Face and OpenCLIP files written from one seed hold the same numbers
 * (under each layout's own initializer names, packed or not).
 *
 * Matrices are stored as [in, out], the orientation MatMul consumes (PyTorch
 * keeps Linear weights as [out, in]; its exporter writes them transposed too).
 */
import type { GraphBuilder } from './graph-builder.ts';
import { concatColumns, concatVectors, floatParam, type FloatInit, type FloatParam } from './tensor-source.ts';

/** Maps a logical weight name to the initializer name of a layout. */
export type ParamNamer = (logical: string) => string;

export interface ParamPart {
  readonly logical: string;
  readonly dims: readonly number[];
  readonly init: FloatInit;
}

export const normal = (std: number): FloatInit => ({ kind: 'normal', std });
export const ones: FloatInit = { kind: 'constant', value: 1 };
export const zeros: FloatInit = { kind: 'constant', value: 0 };

/** Weights to use instead of random ones, by logical name, row-major in the stored orientation. */
export type WeightOverrides = ReadonlyMap<string, Float32Array>;

export class ParamRegistry {
  constructor(
    private readonly builder: GraphBuilder,
    private readonly seed: number,
    private readonly naming: ParamNamer,
    private readonly overrides?: WeightOverrides | undefined,
  ) {}

  add(logical: string, dims: readonly number[], init: FloatInit): string {
    return this.builder.initializer(this.naming(logical), floatParam(this.toParam({ logical, dims, init }), this.seed));
  }

  /** Matrices [in, out_i] packed side by side as one [in, Σ out_i] initializer. */
  packedColumns(logical: string, parts: readonly ParamPart[]): string {
    return this.builder.initializer(this.naming(logical), concatColumns(parts.map((p) => this.toParam(p)), this.seed));
  }

  /** Vectors packed end to end as one initializer. */
  packedVector(logical: string, parts: readonly ParamPart[]): string {
    return this.builder.initializer(this.naming(logical), concatVectors(parts.map((p) => this.toParam(p)), this.seed));
  }

  private toParam(part: ParamPart): FloatParam {
    const values = this.overrides?.get(part.logical);
    const init: FloatInit = values === undefined ? part.init : { kind: 'values', values };
    return { dims: part.dims, init, stream: part.logical };
  }
}
