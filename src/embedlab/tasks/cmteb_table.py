"""Every C-MTEB reranking and retrieval task mteb lists, as plain data (embedlab never imports mteb to look one up).

The mteb columns are mteb 2.x's task metadata (`tasks.mteb.cmteb_rows()` reads them from an installed mteb;
tests/tasks/test_cmteb_table.py checks this table against it): the monolingual Chinese text tasks of type
Reranking or Retrieval, superseded ones included. The C-MTEB columns are where mteb 1.x (1.12 to 1.39.7, the last
1.x) read the same tasks: the original `C-MTEB/*` datasets at these revisions (retrieval qrels in
`<repo>-qrels`), the data of every published score computed before mteb 2.0.
"""

from __future__ import annotations

MTEB_VERSION = "2.26.24"  # the mteb whose metadata the mteb columns copy

# name, type, split, mteb main score, language, mteb dataset, its revision,
# C-MTEB dataset, its revision, its qrels' revision (retrieval), names the task had before
ROWS = [
    ("T2Reranking", "reranking", "dev", "map_at_1000", "cmn-Hans",
     "mteb/T2Reranking", "a34fe6bc0dff185af1228e49a0f6fb1de1565627",
     "C-MTEB/T2Reranking", "76631901a18387f85eaa53e5450019b87ad58ef9", None, ()),
    ("MMarcoReranking", "reranking", "dev", "map_at_1000", "cmn-Hans",
     "mteb/MMarcoReranking", "91c0f9d5cbd4cdc7ecd7039c5c2e57740cb62b00",
     "C-MTEB/Mmarco-reranking", "8e0c766dbe9e16e1d221116a3f36795fbade07f6", None, ()),
    ("CMedQAv1-reranking", "reranking", "test", "map_at_1000", "cmn-Hans",
     "mteb/CMedQAv1-reranking", "f77f0345c9b6ac0a2447a3a71483d5b27393cb35",
     "C-MTEB/CMedQAv1-reranking", "8d7f1e942507dac42dc58017c1a001c3717da7df", None, ("CMedQAv1",)),
    ("CMedQAv2-reranking", "reranking", "test", "map_at_1000", "cmn-Hans",
     "mteb/CMedQAv2-reranking", "01399b6956a4c6bf9edc5b6b90e176aeeb399686",
     "C-MTEB/CMedQAv2-reranking", "23d186750531a14a0357ca22cd92d712fd512ea0", None, ("CMedQAv2",)),
    ("T2Retrieval", "retrieval", "dev", "ndcg_at_10", "cmn-Hans",
     "mteb/T2Retrieval", "cf778c0ea4168ec5174a34d888d6453e4cde9222",
     "C-MTEB/T2Retrieval", "8731a845f1bf500a4f111cf1070785c793d10e64",
     "1c83b8d1544e529875e3f6930f3a1fcf749a8e97", ()),
    ("MMarcoRetrieval", "retrieval", "dev", "ndcg_at_10", "cmn-Hans",
     "mteb/MMarcoRetrieval", "4940a7b26bf53463cfe3435bb8e201963e9c31ae",
     "C-MTEB/MMarcoRetrieval", "539bbde593d947e2a124ba72651aafc09eb33fc2",
     "bae08bb7bddbedb96c7e7db52018a55167b67f89", ()),
    ("DuRetrieval", "retrieval", "dev", "ndcg_at_10", "cmn-Hans",
     "mteb/DuRetrieval", "313c81b51311893c8fd09ca432f96b841ed0ebb3",
     "C-MTEB/DuRetrieval", "a1a333e290fe30b10f3f56498e3a0d911a693ced",
     "497b7bd1bbb25cb3757ff34d95a8be50a3de2279", ()),
    ("CovidRetrieval", "retrieval", "dev", "ndcg_at_10", "cmn-Hans",
     "mteb/CovidRetrieval", "9c6dc4b276bb47c3ff725bbc5ffcafd56dded38b",
     "C-MTEB/CovidRetrieval", "1271c7809071a13532e05f25fb53511ffce77117",
     "a9f41b7cdf24785531d12417ce0d1157ed4b39ca", ()),
    ("CmedqaRetrieval", "retrieval", "dev", "ndcg_at_10", "cmn-Hans",
     "mteb/CmedqaRetrieval", "c476f85bf03d6642ec66bf54b9a551c88108bbb4",
     "C-MTEB/CmedqaRetrieval", "cd540c506dae1cf9e9a59c3e06f42030d54e7301",
     "279d737f36c731c8ff6e2b055f31fe02216fa23d", ()),
    ("EcomRetrieval", "retrieval", "dev", "ndcg_at_10", "cmn-Hans",
     "mteb/EcomRetrieval", "fa705ce5418e91636b1eaeaf43f34c15aa3f5a8a",
     "C-MTEB/EcomRetrieval", "687de13dc7294d6fd9be10c6945f9e8fec8166b9",
     "39c90699b034ec22ac45b3abf5b0bbb5ffd421f9", ()),
    ("MedicalRetrieval", "retrieval", "dev", "ndcg_at_10", "cmn-Hans",
     "mteb/MedicalRetrieval", "023ae3b2c6b96f583c4ff9b3f9239c93f7885c20",
     "C-MTEB/MedicalRetrieval", "2039188fb5800a9803ba5048df7b76e6fb151fc6",
     "37b8efec53c54c3d9c6af212f6710b62ccdf895c", ()),
    ("VideoRetrieval", "retrieval", "dev", "ndcg_at_10", "cmn-Hans",
     "mteb/VideoRetrieval", "146a9d5e4fd7a9c182b6b92cccb6a3753994305c",
     "C-MTEB/VideoRetrieval", "58c2597a5943a2ba48f4668c3b90d796283c5639",
     "faa71382b6a29cf1778d1f436b963e75cb5b927c", ()),
    ("LeCaRDv2", "retrieval", "test", "ndcg_at_10", "zho-Hans",
     "mteb/LeCaRDv2", "b78e18688c3d012a33dc3676597c1d1b2243ce1c",
     None, None, None, ()),
]
