// The opcode table of the Dalvik instruction set, written from the DEX format specification.

package dex

// Opcodes of the Dalvik instruction set (DEX 035-041). Values 0x3e-0x43, 0x73,
// 0x79-0x7a and 0xe3-0xf9 are unused and decode as errors.
const (
	OpNop                    Opcode = 0x00 // nop
	OpMove                   Opcode = 0x01 // move
	OpMoveFrom16             Opcode = 0x02 // move/from16
	OpMove16                 Opcode = 0x03 // move/16
	OpMoveWide               Opcode = 0x04 // move-wide
	OpMoveWideFrom16         Opcode = 0x05 // move-wide/from16
	OpMoveWide16             Opcode = 0x06 // move-wide/16
	OpMoveObject             Opcode = 0x07 // move-object
	OpMoveObjectFrom16       Opcode = 0x08 // move-object/from16
	OpMoveObject16           Opcode = 0x09 // move-object/16
	OpMoveResult             Opcode = 0x0a // move-result
	OpMoveResultWide         Opcode = 0x0b // move-result-wide
	OpMoveResultObject       Opcode = 0x0c // move-result-object
	OpMoveException          Opcode = 0x0d // move-exception
	OpReturnVoid             Opcode = 0x0e // return-void
	OpReturn                 Opcode = 0x0f // return
	OpReturnWide             Opcode = 0x10 // return-wide
	OpReturnObject           Opcode = 0x11 // return-object
	OpConst4                 Opcode = 0x12 // const/4
	OpConst16                Opcode = 0x13 // const/16
	OpConst                  Opcode = 0x14 // const
	OpConstHigh16            Opcode = 0x15 // const/high16
	OpConstWide16            Opcode = 0x16 // const-wide/16
	OpConstWide32            Opcode = 0x17 // const-wide/32
	OpConstWide              Opcode = 0x18 // const-wide
	OpConstWideHigh16        Opcode = 0x19 // const-wide/high16
	OpConstString            Opcode = 0x1a // const-string
	OpConstStringJumbo       Opcode = 0x1b // const-string/jumbo
	OpConstClass             Opcode = 0x1c // const-class
	OpMonitorEnter           Opcode = 0x1d // monitor-enter
	OpMonitorExit            Opcode = 0x1e // monitor-exit
	OpCheckCast              Opcode = 0x1f // check-cast
	OpInstanceOf             Opcode = 0x20 // instance-of
	OpArrayLength            Opcode = 0x21 // array-length
	OpNewInstance            Opcode = 0x22 // new-instance
	OpNewArray               Opcode = 0x23 // new-array
	OpFilledNewArray         Opcode = 0x24 // filled-new-array
	OpFilledNewArrayRange    Opcode = 0x25 // filled-new-array/range
	OpFillArrayData          Opcode = 0x26 // fill-array-data
	OpThrow                  Opcode = 0x27 // throw
	OpGoto                   Opcode = 0x28 // goto
	OpGoto16                 Opcode = 0x29 // goto/16
	OpGoto32                 Opcode = 0x2a // goto/32
	OpPackedSwitch           Opcode = 0x2b // packed-switch
	OpSparseSwitch           Opcode = 0x2c // sparse-switch
	OpCmplFloat              Opcode = 0x2d // cmpl-float
	OpCmpgFloat              Opcode = 0x2e // cmpg-float
	OpCmplDouble             Opcode = 0x2f // cmpl-double
	OpCmpgDouble             Opcode = 0x30 // cmpg-double
	OpCmpLong                Opcode = 0x31 // cmp-long
	OpIfEq                   Opcode = 0x32 // if-eq
	OpIfNe                   Opcode = 0x33 // if-ne
	OpIfLt                   Opcode = 0x34 // if-lt
	OpIfGe                   Opcode = 0x35 // if-ge
	OpIfGt                   Opcode = 0x36 // if-gt
	OpIfLe                   Opcode = 0x37 // if-le
	OpIfEqz                  Opcode = 0x38 // if-eqz
	OpIfNez                  Opcode = 0x39 // if-nez
	OpIfLtz                  Opcode = 0x3a // if-ltz
	OpIfGez                  Opcode = 0x3b // if-gez
	OpIfGtz                  Opcode = 0x3c // if-gtz
	OpIfLez                  Opcode = 0x3d // if-lez
	OpAget                   Opcode = 0x44 // aget
	OpAgetWide               Opcode = 0x45 // aget-wide
	OpAgetObject             Opcode = 0x46 // aget-object
	OpAgetBoolean            Opcode = 0x47 // aget-boolean
	OpAgetByte               Opcode = 0x48 // aget-byte
	OpAgetChar               Opcode = 0x49 // aget-char
	OpAgetShort              Opcode = 0x4a // aget-short
	OpAput                   Opcode = 0x4b // aput
	OpAputWide               Opcode = 0x4c // aput-wide
	OpAputObject             Opcode = 0x4d // aput-object
	OpAputBoolean            Opcode = 0x4e // aput-boolean
	OpAputByte               Opcode = 0x4f // aput-byte
	OpAputChar               Opcode = 0x50 // aput-char
	OpAputShort              Opcode = 0x51 // aput-short
	OpIget                   Opcode = 0x52 // iget
	OpIgetWide               Opcode = 0x53 // iget-wide
	OpIgetObject             Opcode = 0x54 // iget-object
	OpIgetBoolean            Opcode = 0x55 // iget-boolean
	OpIgetByte               Opcode = 0x56 // iget-byte
	OpIgetChar               Opcode = 0x57 // iget-char
	OpIgetShort              Opcode = 0x58 // iget-short
	OpIput                   Opcode = 0x59 // iput
	OpIputWide               Opcode = 0x5a // iput-wide
	OpIputObject             Opcode = 0x5b // iput-object
	OpIputBoolean            Opcode = 0x5c // iput-boolean
	OpIputByte               Opcode = 0x5d // iput-byte
	OpIputChar               Opcode = 0x5e // iput-char
	OpIputShort              Opcode = 0x5f // iput-short
	OpSget                   Opcode = 0x60 // sget
	OpSgetWide               Opcode = 0x61 // sget-wide
	OpSgetObject             Opcode = 0x62 // sget-object
	OpSgetBoolean            Opcode = 0x63 // sget-boolean
	OpSgetByte               Opcode = 0x64 // sget-byte
	OpSgetChar               Opcode = 0x65 // sget-char
	OpSgetShort              Opcode = 0x66 // sget-short
	OpSput                   Opcode = 0x67 // sput
	OpSputWide               Opcode = 0x68 // sput-wide
	OpSputObject             Opcode = 0x69 // sput-object
	OpSputBoolean            Opcode = 0x6a // sput-boolean
	OpSputByte               Opcode = 0x6b // sput-byte
	OpSputChar               Opcode = 0x6c // sput-char
	OpSputShort              Opcode = 0x6d // sput-short
	OpInvokeVirtual          Opcode = 0x6e // invoke-virtual
	OpInvokeSuper            Opcode = 0x6f // invoke-super
	OpInvokeDirect           Opcode = 0x70 // invoke-direct
	OpInvokeStatic           Opcode = 0x71 // invoke-static
	OpInvokeInterface        Opcode = 0x72 // invoke-interface
	OpInvokeVirtualRange     Opcode = 0x74 // invoke-virtual/range
	OpInvokeSuperRange       Opcode = 0x75 // invoke-super/range
	OpInvokeDirectRange      Opcode = 0x76 // invoke-direct/range
	OpInvokeStaticRange      Opcode = 0x77 // invoke-static/range
	OpInvokeInterfaceRange   Opcode = 0x78 // invoke-interface/range
	OpNegInt                 Opcode = 0x7b // neg-int
	OpNotInt                 Opcode = 0x7c // not-int
	OpNegLong                Opcode = 0x7d // neg-long
	OpNotLong                Opcode = 0x7e // not-long
	OpNegFloat               Opcode = 0x7f // neg-float
	OpNegDouble              Opcode = 0x80 // neg-double
	OpIntToLong              Opcode = 0x81 // int-to-long
	OpIntToFloat             Opcode = 0x82 // int-to-float
	OpIntToDouble            Opcode = 0x83 // int-to-double
	OpLongToInt              Opcode = 0x84 // long-to-int
	OpLongToFloat            Opcode = 0x85 // long-to-float
	OpLongToDouble           Opcode = 0x86 // long-to-double
	OpFloatToInt             Opcode = 0x87 // float-to-int
	OpFloatToLong            Opcode = 0x88 // float-to-long
	OpFloatToDouble          Opcode = 0x89 // float-to-double
	OpDoubleToInt            Opcode = 0x8a // double-to-int
	OpDoubleToLong           Opcode = 0x8b // double-to-long
	OpDoubleToFloat          Opcode = 0x8c // double-to-float
	OpIntToByte              Opcode = 0x8d // int-to-byte
	OpIntToChar              Opcode = 0x8e // int-to-char
	OpIntToShort             Opcode = 0x8f // int-to-short
	OpAddInt                 Opcode = 0x90 // add-int
	OpSubInt                 Opcode = 0x91 // sub-int
	OpMulInt                 Opcode = 0x92 // mul-int
	OpDivInt                 Opcode = 0x93 // div-int
	OpRemInt                 Opcode = 0x94 // rem-int
	OpAndInt                 Opcode = 0x95 // and-int
	OpOrInt                  Opcode = 0x96 // or-int
	OpXorInt                 Opcode = 0x97 // xor-int
	OpShlInt                 Opcode = 0x98 // shl-int
	OpShrInt                 Opcode = 0x99 // shr-int
	OpUshrInt                Opcode = 0x9a // ushr-int
	OpAddLong                Opcode = 0x9b // add-long
	OpSubLong                Opcode = 0x9c // sub-long
	OpMulLong                Opcode = 0x9d // mul-long
	OpDivLong                Opcode = 0x9e // div-long
	OpRemLong                Opcode = 0x9f // rem-long
	OpAndLong                Opcode = 0xa0 // and-long
	OpOrLong                 Opcode = 0xa1 // or-long
	OpXorLong                Opcode = 0xa2 // xor-long
	OpShlLong                Opcode = 0xa3 // shl-long
	OpShrLong                Opcode = 0xa4 // shr-long
	OpUshrLong               Opcode = 0xa5 // ushr-long
	OpAddFloat               Opcode = 0xa6 // add-float
	OpSubFloat               Opcode = 0xa7 // sub-float
	OpMulFloat               Opcode = 0xa8 // mul-float
	OpDivFloat               Opcode = 0xa9 // div-float
	OpRemFloat               Opcode = 0xaa // rem-float
	OpAddDouble              Opcode = 0xab // add-double
	OpSubDouble              Opcode = 0xac // sub-double
	OpMulDouble              Opcode = 0xad // mul-double
	OpDivDouble              Opcode = 0xae // div-double
	OpRemDouble              Opcode = 0xaf // rem-double
	OpAddInt2addr            Opcode = 0xb0 // add-int/2addr
	OpSubInt2addr            Opcode = 0xb1 // sub-int/2addr
	OpMulInt2addr            Opcode = 0xb2 // mul-int/2addr
	OpDivInt2addr            Opcode = 0xb3 // div-int/2addr
	OpRemInt2addr            Opcode = 0xb4 // rem-int/2addr
	OpAndInt2addr            Opcode = 0xb5 // and-int/2addr
	OpOrInt2addr             Opcode = 0xb6 // or-int/2addr
	OpXorInt2addr            Opcode = 0xb7 // xor-int/2addr
	OpShlInt2addr            Opcode = 0xb8 // shl-int/2addr
	OpShrInt2addr            Opcode = 0xb9 // shr-int/2addr
	OpUshrInt2addr           Opcode = 0xba // ushr-int/2addr
	OpAddLong2addr           Opcode = 0xbb // add-long/2addr
	OpSubLong2addr           Opcode = 0xbc // sub-long/2addr
	OpMulLong2addr           Opcode = 0xbd // mul-long/2addr
	OpDivLong2addr           Opcode = 0xbe // div-long/2addr
	OpRemLong2addr           Opcode = 0xbf // rem-long/2addr
	OpAndLong2addr           Opcode = 0xc0 // and-long/2addr
	OpOrLong2addr            Opcode = 0xc1 // or-long/2addr
	OpXorLong2addr           Opcode = 0xc2 // xor-long/2addr
	OpShlLong2addr           Opcode = 0xc3 // shl-long/2addr
	OpShrLong2addr           Opcode = 0xc4 // shr-long/2addr
	OpUshrLong2addr          Opcode = 0xc5 // ushr-long/2addr
	OpAddFloat2addr          Opcode = 0xc6 // add-float/2addr
	OpSubFloat2addr          Opcode = 0xc7 // sub-float/2addr
	OpMulFloat2addr          Opcode = 0xc8 // mul-float/2addr
	OpDivFloat2addr          Opcode = 0xc9 // div-float/2addr
	OpRemFloat2addr          Opcode = 0xca // rem-float/2addr
	OpAddDouble2addr         Opcode = 0xcb // add-double/2addr
	OpSubDouble2addr         Opcode = 0xcc // sub-double/2addr
	OpMulDouble2addr         Opcode = 0xcd // mul-double/2addr
	OpDivDouble2addr         Opcode = 0xce // div-double/2addr
	OpRemDouble2addr         Opcode = 0xcf // rem-double/2addr
	OpAddIntLit16            Opcode = 0xd0 // add-int/lit16
	OpRsubInt                Opcode = 0xd1 // rsub-int
	OpMulIntLit16            Opcode = 0xd2 // mul-int/lit16
	OpDivIntLit16            Opcode = 0xd3 // div-int/lit16
	OpRemIntLit16            Opcode = 0xd4 // rem-int/lit16
	OpAndIntLit16            Opcode = 0xd5 // and-int/lit16
	OpOrIntLit16             Opcode = 0xd6 // or-int/lit16
	OpXorIntLit16            Opcode = 0xd7 // xor-int/lit16
	OpAddIntLit8             Opcode = 0xd8 // add-int/lit8
	OpRsubIntLit8            Opcode = 0xd9 // rsub-int/lit8
	OpMulIntLit8             Opcode = 0xda // mul-int/lit8
	OpDivIntLit8             Opcode = 0xdb // div-int/lit8
	OpRemIntLit8             Opcode = 0xdc // rem-int/lit8
	OpAndIntLit8             Opcode = 0xdd // and-int/lit8
	OpOrIntLit8              Opcode = 0xde // or-int/lit8
	OpXorIntLit8             Opcode = 0xdf // xor-int/lit8
	OpShlIntLit8             Opcode = 0xe0 // shl-int/lit8
	OpShrIntLit8             Opcode = 0xe1 // shr-int/lit8
	OpUshrIntLit8            Opcode = 0xe2 // ushr-int/lit8
	OpInvokePolymorphic      Opcode = 0xfa // invoke-polymorphic
	OpInvokePolymorphicRange Opcode = 0xfb // invoke-polymorphic/range
	OpInvokeCustom           Opcode = 0xfc // invoke-custom
	OpInvokeCustomRange      Opcode = 0xfd // invoke-custom/range
	OpConstMethodHandle      Opcode = 0xfe // const-method-handle
	OpConstMethodType        Opcode = 0xff // const-method-type
)

// opTable describes every opcode; a zero entry is an unused opcode.
var opTable = [256]opInfo{
	0x00: {name: "nop", format: f10x, kind: IndexNone},
	0x01: {name: "move", format: f12x, kind: IndexNone},
	0x02: {name: "move/from16", format: f22x, kind: IndexNone},
	0x03: {name: "move/16", format: f32x, kind: IndexNone},
	0x04: {name: "move-wide", format: f12x, kind: IndexNone},
	0x05: {name: "move-wide/from16", format: f22x, kind: IndexNone},
	0x06: {name: "move-wide/16", format: f32x, kind: IndexNone},
	0x07: {name: "move-object", format: f12x, kind: IndexNone},
	0x08: {name: "move-object/from16", format: f22x, kind: IndexNone},
	0x09: {name: "move-object/16", format: f32x, kind: IndexNone},
	0x0a: {name: "move-result", format: f11x, kind: IndexNone},
	0x0b: {name: "move-result-wide", format: f11x, kind: IndexNone},
	0x0c: {name: "move-result-object", format: f11x, kind: IndexNone},
	0x0d: {name: "move-exception", format: f11x, kind: IndexNone},
	0x0e: {name: "return-void", format: f10x, kind: IndexNone},
	0x0f: {name: "return", format: f11x, kind: IndexNone},
	0x10: {name: "return-wide", format: f11x, kind: IndexNone},
	0x11: {name: "return-object", format: f11x, kind: IndexNone},
	0x12: {name: "const/4", format: f11n, kind: IndexNone},
	0x13: {name: "const/16", format: f21s, kind: IndexNone},
	0x14: {name: "const", format: f31i, kind: IndexNone},
	0x15: {name: "const/high16", format: f21h, kind: IndexNone},
	0x16: {name: "const-wide/16", format: f21s, kind: IndexNone},
	0x17: {name: "const-wide/32", format: f31i, kind: IndexNone},
	0x18: {name: "const-wide", format: f51l, kind: IndexNone},
	0x19: {name: "const-wide/high16", format: f21h, kind: IndexNone},
	0x1a: {name: "const-string", format: f21c, kind: IndexString},
	0x1b: {name: "const-string/jumbo", format: f31c, kind: IndexString},
	0x1c: {name: "const-class", format: f21c, kind: IndexType},
	0x1d: {name: "monitor-enter", format: f11x, kind: IndexNone},
	0x1e: {name: "monitor-exit", format: f11x, kind: IndexNone},
	0x1f: {name: "check-cast", format: f21c, kind: IndexType},
	0x20: {name: "instance-of", format: f22c, kind: IndexType},
	0x21: {name: "array-length", format: f12x, kind: IndexNone},
	0x22: {name: "new-instance", format: f21c, kind: IndexType},
	0x23: {name: "new-array", format: f22c, kind: IndexType},
	0x24: {name: "filled-new-array", format: f35c, kind: IndexType},
	0x25: {name: "filled-new-array/range", format: f3rc, kind: IndexType},
	0x26: {name: "fill-array-data", format: f31t, kind: IndexNone},
	0x27: {name: "throw", format: f11x, kind: IndexNone},
	0x28: {name: "goto", format: f10t, kind: IndexNone},
	0x29: {name: "goto/16", format: f20t, kind: IndexNone},
	0x2a: {name: "goto/32", format: f30t, kind: IndexNone},
	0x2b: {name: "packed-switch", format: f31t, kind: IndexNone},
	0x2c: {name: "sparse-switch", format: f31t, kind: IndexNone},
	0x2d: {name: "cmpl-float", format: f23x, kind: IndexNone},
	0x2e: {name: "cmpg-float", format: f23x, kind: IndexNone},
	0x2f: {name: "cmpl-double", format: f23x, kind: IndexNone},
	0x30: {name: "cmpg-double", format: f23x, kind: IndexNone},
	0x31: {name: "cmp-long", format: f23x, kind: IndexNone},
	0x32: {name: "if-eq", format: f22t, kind: IndexNone},
	0x33: {name: "if-ne", format: f22t, kind: IndexNone},
	0x34: {name: "if-lt", format: f22t, kind: IndexNone},
	0x35: {name: "if-ge", format: f22t, kind: IndexNone},
	0x36: {name: "if-gt", format: f22t, kind: IndexNone},
	0x37: {name: "if-le", format: f22t, kind: IndexNone},
	0x38: {name: "if-eqz", format: f21t, kind: IndexNone},
	0x39: {name: "if-nez", format: f21t, kind: IndexNone},
	0x3a: {name: "if-ltz", format: f21t, kind: IndexNone},
	0x3b: {name: "if-gez", format: f21t, kind: IndexNone},
	0x3c: {name: "if-gtz", format: f21t, kind: IndexNone},
	0x3d: {name: "if-lez", format: f21t, kind: IndexNone},
	0x44: {name: "aget", format: f23x, kind: IndexNone},
	0x45: {name: "aget-wide", format: f23x, kind: IndexNone},
	0x46: {name: "aget-object", format: f23x, kind: IndexNone},
	0x47: {name: "aget-boolean", format: f23x, kind: IndexNone},
	0x48: {name: "aget-byte", format: f23x, kind: IndexNone},
	0x49: {name: "aget-char", format: f23x, kind: IndexNone},
	0x4a: {name: "aget-short", format: f23x, kind: IndexNone},
	0x4b: {name: "aput", format: f23x, kind: IndexNone},
	0x4c: {name: "aput-wide", format: f23x, kind: IndexNone},
	0x4d: {name: "aput-object", format: f23x, kind: IndexNone},
	0x4e: {name: "aput-boolean", format: f23x, kind: IndexNone},
	0x4f: {name: "aput-byte", format: f23x, kind: IndexNone},
	0x50: {name: "aput-char", format: f23x, kind: IndexNone},
	0x51: {name: "aput-short", format: f23x, kind: IndexNone},
	0x52: {name: "iget", format: f22c, kind: IndexField},
	0x53: {name: "iget-wide", format: f22c, kind: IndexField},
	0x54: {name: "iget-object", format: f22c, kind: IndexField},
	0x55: {name: "iget-boolean", format: f22c, kind: IndexField},
	0x56: {name: "iget-byte", format: f22c, kind: IndexField},
	0x57: {name: "iget-char", format: f22c, kind: IndexField},
	0x58: {name: "iget-short", format: f22c, kind: IndexField},
	0x59: {name: "iput", format: f22c, kind: IndexField},
	0x5a: {name: "iput-wide", format: f22c, kind: IndexField},
	0x5b: {name: "iput-object", format: f22c, kind: IndexField},
	0x5c: {name: "iput-boolean", format: f22c, kind: IndexField},
	0x5d: {name: "iput-byte", format: f22c, kind: IndexField},
	0x5e: {name: "iput-char", format: f22c, kind: IndexField},
	0x5f: {name: "iput-short", format: f22c, kind: IndexField},
	0x60: {name: "sget", format: f21c, kind: IndexField},
	0x61: {name: "sget-wide", format: f21c, kind: IndexField},
	0x62: {name: "sget-object", format: f21c, kind: IndexField},
	0x63: {name: "sget-boolean", format: f21c, kind: IndexField},
	0x64: {name: "sget-byte", format: f21c, kind: IndexField},
	0x65: {name: "sget-char", format: f21c, kind: IndexField},
	0x66: {name: "sget-short", format: f21c, kind: IndexField},
	0x67: {name: "sput", format: f21c, kind: IndexField},
	0x68: {name: "sput-wide", format: f21c, kind: IndexField},
	0x69: {name: "sput-object", format: f21c, kind: IndexField},
	0x6a: {name: "sput-boolean", format: f21c, kind: IndexField},
	0x6b: {name: "sput-byte", format: f21c, kind: IndexField},
	0x6c: {name: "sput-char", format: f21c, kind: IndexField},
	0x6d: {name: "sput-short", format: f21c, kind: IndexField},
	0x6e: {name: "invoke-virtual", format: f35c, kind: IndexMethod},
	0x6f: {name: "invoke-super", format: f35c, kind: IndexMethod},
	0x70: {name: "invoke-direct", format: f35c, kind: IndexMethod},
	0x71: {name: "invoke-static", format: f35c, kind: IndexMethod},
	0x72: {name: "invoke-interface", format: f35c, kind: IndexMethod},
	0x74: {name: "invoke-virtual/range", format: f3rc, kind: IndexMethod},
	0x75: {name: "invoke-super/range", format: f3rc, kind: IndexMethod},
	0x76: {name: "invoke-direct/range", format: f3rc, kind: IndexMethod},
	0x77: {name: "invoke-static/range", format: f3rc, kind: IndexMethod},
	0x78: {name: "invoke-interface/range", format: f3rc, kind: IndexMethod},
	0x7b: {name: "neg-int", format: f12x, kind: IndexNone},
	0x7c: {name: "not-int", format: f12x, kind: IndexNone},
	0x7d: {name: "neg-long", format: f12x, kind: IndexNone},
	0x7e: {name: "not-long", format: f12x, kind: IndexNone},
	0x7f: {name: "neg-float", format: f12x, kind: IndexNone},
	0x80: {name: "neg-double", format: f12x, kind: IndexNone},
	0x81: {name: "int-to-long", format: f12x, kind: IndexNone},
	0x82: {name: "int-to-float", format: f12x, kind: IndexNone},
	0x83: {name: "int-to-double", format: f12x, kind: IndexNone},
	0x84: {name: "long-to-int", format: f12x, kind: IndexNone},
	0x85: {name: "long-to-float", format: f12x, kind: IndexNone},
	0x86: {name: "long-to-double", format: f12x, kind: IndexNone},
	0x87: {name: "float-to-int", format: f12x, kind: IndexNone},
	0x88: {name: "float-to-long", format: f12x, kind: IndexNone},
	0x89: {name: "float-to-double", format: f12x, kind: IndexNone},
	0x8a: {name: "double-to-int", format: f12x, kind: IndexNone},
	0x8b: {name: "double-to-long", format: f12x, kind: IndexNone},
	0x8c: {name: "double-to-float", format: f12x, kind: IndexNone},
	0x8d: {name: "int-to-byte", format: f12x, kind: IndexNone},
	0x8e: {name: "int-to-char", format: f12x, kind: IndexNone},
	0x8f: {name: "int-to-short", format: f12x, kind: IndexNone},
	0x90: {name: "add-int", format: f23x, kind: IndexNone},
	0x91: {name: "sub-int", format: f23x, kind: IndexNone},
	0x92: {name: "mul-int", format: f23x, kind: IndexNone},
	0x93: {name: "div-int", format: f23x, kind: IndexNone},
	0x94: {name: "rem-int", format: f23x, kind: IndexNone},
	0x95: {name: "and-int", format: f23x, kind: IndexNone},
	0x96: {name: "or-int", format: f23x, kind: IndexNone},
	0x97: {name: "xor-int", format: f23x, kind: IndexNone},
	0x98: {name: "shl-int", format: f23x, kind: IndexNone},
	0x99: {name: "shr-int", format: f23x, kind: IndexNone},
	0x9a: {name: "ushr-int", format: f23x, kind: IndexNone},
	0x9b: {name: "add-long", format: f23x, kind: IndexNone},
	0x9c: {name: "sub-long", format: f23x, kind: IndexNone},
	0x9d: {name: "mul-long", format: f23x, kind: IndexNone},
	0x9e: {name: "div-long", format: f23x, kind: IndexNone},
	0x9f: {name: "rem-long", format: f23x, kind: IndexNone},
	0xa0: {name: "and-long", format: f23x, kind: IndexNone},
	0xa1: {name: "or-long", format: f23x, kind: IndexNone},
	0xa2: {name: "xor-long", format: f23x, kind: IndexNone},
	0xa3: {name: "shl-long", format: f23x, kind: IndexNone},
	0xa4: {name: "shr-long", format: f23x, kind: IndexNone},
	0xa5: {name: "ushr-long", format: f23x, kind: IndexNone},
	0xa6: {name: "add-float", format: f23x, kind: IndexNone},
	0xa7: {name: "sub-float", format: f23x, kind: IndexNone},
	0xa8: {name: "mul-float", format: f23x, kind: IndexNone},
	0xa9: {name: "div-float", format: f23x, kind: IndexNone},
	0xaa: {name: "rem-float", format: f23x, kind: IndexNone},
	0xab: {name: "add-double", format: f23x, kind: IndexNone},
	0xac: {name: "sub-double", format: f23x, kind: IndexNone},
	0xad: {name: "mul-double", format: f23x, kind: IndexNone},
	0xae: {name: "div-double", format: f23x, kind: IndexNone},
	0xaf: {name: "rem-double", format: f23x, kind: IndexNone},
	0xb0: {name: "add-int/2addr", format: f12x, kind: IndexNone},
	0xb1: {name: "sub-int/2addr", format: f12x, kind: IndexNone},
	0xb2: {name: "mul-int/2addr", format: f12x, kind: IndexNone},
	0xb3: {name: "div-int/2addr", format: f12x, kind: IndexNone},
	0xb4: {name: "rem-int/2addr", format: f12x, kind: IndexNone},
	0xb5: {name: "and-int/2addr", format: f12x, kind: IndexNone},
	0xb6: {name: "or-int/2addr", format: f12x, kind: IndexNone},
	0xb7: {name: "xor-int/2addr", format: f12x, kind: IndexNone},
	0xb8: {name: "shl-int/2addr", format: f12x, kind: IndexNone},
	0xb9: {name: "shr-int/2addr", format: f12x, kind: IndexNone},
	0xba: {name: "ushr-int/2addr", format: f12x, kind: IndexNone},
	0xbb: {name: "add-long/2addr", format: f12x, kind: IndexNone},
	0xbc: {name: "sub-long/2addr", format: f12x, kind: IndexNone},
	0xbd: {name: "mul-long/2addr", format: f12x, kind: IndexNone},
	0xbe: {name: "div-long/2addr", format: f12x, kind: IndexNone},
	0xbf: {name: "rem-long/2addr", format: f12x, kind: IndexNone},
	0xc0: {name: "and-long/2addr", format: f12x, kind: IndexNone},
	0xc1: {name: "or-long/2addr", format: f12x, kind: IndexNone},
	0xc2: {name: "xor-long/2addr", format: f12x, kind: IndexNone},
	0xc3: {name: "shl-long/2addr", format: f12x, kind: IndexNone},
	0xc4: {name: "shr-long/2addr", format: f12x, kind: IndexNone},
	0xc5: {name: "ushr-long/2addr", format: f12x, kind: IndexNone},
	0xc6: {name: "add-float/2addr", format: f12x, kind: IndexNone},
	0xc7: {name: "sub-float/2addr", format: f12x, kind: IndexNone},
	0xc8: {name: "mul-float/2addr", format: f12x, kind: IndexNone},
	0xc9: {name: "div-float/2addr", format: f12x, kind: IndexNone},
	0xca: {name: "rem-float/2addr", format: f12x, kind: IndexNone},
	0xcb: {name: "add-double/2addr", format: f12x, kind: IndexNone},
	0xcc: {name: "sub-double/2addr", format: f12x, kind: IndexNone},
	0xcd: {name: "mul-double/2addr", format: f12x, kind: IndexNone},
	0xce: {name: "div-double/2addr", format: f12x, kind: IndexNone},
	0xcf: {name: "rem-double/2addr", format: f12x, kind: IndexNone},
	0xd0: {name: "add-int/lit16", format: f22s, kind: IndexNone},
	0xd1: {name: "rsub-int", format: f22s, kind: IndexNone},
	0xd2: {name: "mul-int/lit16", format: f22s, kind: IndexNone},
	0xd3: {name: "div-int/lit16", format: f22s, kind: IndexNone},
	0xd4: {name: "rem-int/lit16", format: f22s, kind: IndexNone},
	0xd5: {name: "and-int/lit16", format: f22s, kind: IndexNone},
	0xd6: {name: "or-int/lit16", format: f22s, kind: IndexNone},
	0xd7: {name: "xor-int/lit16", format: f22s, kind: IndexNone},
	0xd8: {name: "add-int/lit8", format: f22b, kind: IndexNone},
	0xd9: {name: "rsub-int/lit8", format: f22b, kind: IndexNone},
	0xda: {name: "mul-int/lit8", format: f22b, kind: IndexNone},
	0xdb: {name: "div-int/lit8", format: f22b, kind: IndexNone},
	0xdc: {name: "rem-int/lit8", format: f22b, kind: IndexNone},
	0xdd: {name: "and-int/lit8", format: f22b, kind: IndexNone},
	0xde: {name: "or-int/lit8", format: f22b, kind: IndexNone},
	0xdf: {name: "xor-int/lit8", format: f22b, kind: IndexNone},
	0xe0: {name: "shl-int/lit8", format: f22b, kind: IndexNone},
	0xe1: {name: "shr-int/lit8", format: f22b, kind: IndexNone},
	0xe2: {name: "ushr-int/lit8", format: f22b, kind: IndexNone},
	0xfa: {name: "invoke-polymorphic", format: f45cc, kind: IndexMethod},
	0xfb: {name: "invoke-polymorphic/range", format: f4rcc, kind: IndexMethod},
	0xfc: {name: "invoke-custom", format: f35c, kind: IndexCallSite},
	0xfd: {name: "invoke-custom/range", format: f3rc, kind: IndexCallSite},
	0xfe: {name: "const-method-handle", format: f21c, kind: IndexMethodHandle},
	0xff: {name: "const-method-type", format: f21c, kind: IndexProto},
}
