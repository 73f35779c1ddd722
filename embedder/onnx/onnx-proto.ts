/**
 * The subset of onnx.proto (https://github.com/onnx/onnx/blob/main/onnx/onnx.proto)
 * that the model generator writes and the graph rewrite reads, loaded with protobufjs.
 * Field numbers and proto2 packing rules are those of ONNX; fields neither uses are
 * left out (the wire-level edits copy those unchanged).
 */
import protobuf from 'protobufjs';
import type { Int64 } from './protobuf-wire.ts';

const ONNX_PROTO_SUBSET = `
syntax = "proto2";
package onnx;

message AttributeProto {
  enum AttributeType {
    UNDEFINED = 0; FLOAT = 1; INT = 2; STRING = 3; TENSOR = 4; GRAPH = 5;
    FLOATS = 6; INTS = 7; STRINGS = 8; TENSORS = 9; GRAPHS = 10;
  }
  optional string name = 1;
  optional string doc_string = 13;
  optional AttributeType type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
}

message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}

message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}

message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}

message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}

message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}

message TensorProto {
  enum DataType {
    UNDEFINED = 0; FLOAT = 1; UINT8 = 2; INT8 = 3; UINT16 = 4; INT16 = 5;
    INT32 = 6; INT64 = 7; STRING = 8; BOOL = 9; FLOAT16 = 10; DOUBLE = 11;
  }
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
}

message TensorShapeProto {
  message Dimension {
    oneof value {
      int64 dim_value = 1;
      string dim_param = 2;
    }
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}

message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  oneof value {
    Tensor tensor_type = 1;
  }
  optional string denotation = 6;
}

message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
`;

const root = protobuf.parse(ONNX_PROTO_SUBSET, { keepCase: true }).root;

export const ModelProto = root.lookupType('onnx.ModelProto');
export const GraphProto = root.lookupType('onnx.GraphProto');
export const TensorProto = root.lookupType('onnx.TensorProto');
export const NodeProto = root.lookupType('onnx.NodeProto');
const ValueInfoProto = root.lookupType('onnx.ValueInfoProto');

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DataTypeId = (typeof DataType)[keyof typeof DataType];

/** AttributeProto.AttributeType values used here. */
export const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, GRAPH: 5, FLOATS: 6, INTS: 7, GRAPHS: 10 } as const;

function fieldNumber(type: protobuf.Type, name: string): number {
  const field = type.fields[name];
  if (!field) throw new Error(`onnx.${type.name} has no field ${name}`);
  return field.id;
}

/** Field numbers for messages read or assembled at the wire level (protobuf-wire.ts), from the schema above. */
export const FieldNumber = {
  modelGraph: fieldNumber(ModelProto, 'graph'),
  graphNode: fieldNumber(GraphProto, 'node'),
  graphInitializer: fieldNumber(GraphProto, 'initializer'),
  graphInput: fieldNumber(GraphProto, 'input'),
  graphOutput: fieldNumber(GraphProto, 'output'),
  tensorDims: fieldNumber(TensorProto, 'dims'),
  tensorDataType: fieldNumber(TensorProto, 'data_type'),
  tensorName: fieldNumber(TensorProto, 'name'),
  tensorRawData: fieldNumber(TensorProto, 'raw_data'),
  valueInfoName: fieldNumber(ValueInfoProto, 'name'),
} as const;

/**
 * A decoded AttributeProto: the fields read here. Others (floats, strings) are kept as decoded,
 * so a node re-encoded with encodeNode keeps them.
 */
export interface AttributeMessage {
  name: string;
  type?: number;
  i?: Int64;
  ints?: Int64[];
  t?: { dims?: Int64[]; data_type?: number; int64_data?: Int64[] };
}

/** A decoded NodeProto (repeated fields always present). */
export interface NodeMessage {
  input: string[];
  output: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute: AttributeMessage[];
}

/** A NodeProto's bytes decoded; int64 values stay Longs, so that re-encoding the node gives them back exactly. */
export function decodeNode(bytes: Uint8Array): NodeMessage {
  return NodeProto.toObject(NodeProto.decode(bytes), { defaults: false, arrays: true }) as NodeMessage;
}

export function encodeNode(node: NodeMessage): Uint8Array {
  return NodeProto.encode(NodeProto.fromObject(node)).finish();
}
