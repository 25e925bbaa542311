//! readelf output of a libmesos, shared by the parser and stub tests.

pub(super) const READELF_V: &str = "
Version symbols section '.gnu.version' contains 166730 entries:
  000:   0 (*local*)       0 (*local*)       0 (*local*)       2 (GLIBC_2.2.5)
Version needs section '.gnu.version_r' contains 3 entries:
 Addr: 0x0000000001e4d5d0  Offset: 0x01e4d5d0  Link: 4 (.dynstr)
  000000: Version: 1  File: libcrypto.so.1.0.0  Cnt: 2
  0x0010:   Name: OPENSSL_1.0.2  Flags: none  Version: 21
  0x0020:   Name: OPENSSL_1.0.0  Flags: none  Version: 9
  0x0030: Version: 1  File: libssl.so.1.0.0  Cnt: 2
  0x0040:   Name: OPENSSL_1.0.1  Flags: none  Version: 22
  0x0050:   Name: OPENSSL_1.0.0  Flags: none  Version: 8
  0x0060: Version: 1  File: libcurl.so.4  Cnt: 1
  0x0070:   Name: CURL_OPENSSL_3  Flags: none  Version: 6
  0x0080: Version: 1  File: libc.so.6  Cnt: 1
  0x0090:   Name: GLIBC_2.2.5  Flags: none  Version: 2
";

pub(super) const READELF_SYMS: &str = "
Symbol table '.dynsym' contains 166730 entries:
   Num:    Value          Size Type    Bind   Vis      Ndx Name
     0: 0000000000000000     0 NOTYPE  LOCAL  DEFAULT  UND 
    10: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND curl_global_init@CURL_OPENSSL_3 (6)
    12: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND SSL_get_verify_result@OPENSSL_1.0.0 (8)
    13: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND BIO_free@OPENSSL_1.0.0 (9)
    14: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND SSL_CTX_set_next_proto_select_cb@OPENSSL_1.0.1 (22)
    16: 0000000000000000     0 NOTYPE  WEAK   DEFAULT  UND _ZTHN7process10_executor_E
    23: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND svn_txdelta_parse_svndiff
    24: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND mallctl
    32: 0000000000000000     0 NOTYPE  GLOBAL DEFAULT  UND PyErr_Print
   240: 0000000000000000     0 NOTYPE  GLOBAL DEFAULT  UND _Py_NoneStruct
   241: 0000000000000000     0 NOTYPE  GLOBAL DEFAULT  UND PyExc_TypeError
   300: 0000000000000000     0 FUNC    GLOBAL DEFAULT  UND memcpy@GLIBC_2.14 (3)
   301: 00000000028546b0  1234 FUNC    GLOBAL DEFAULT   12 _ZN5mesos8internal5slave5FlagsC1Ev
";
