//===- Database.h - LMDB and LevelDB key-value stores -----------*- C++ -*-===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//
//
// The two backends of Caffe's Data layer (caffe/util/db.hpp): records are
// read in key order, as Caffe's cursors do. Writers are for dlc-data's
// converters and for tests. Errors throw dlc::data::Error naming the path.
//
//===----------------------------------------------------------------------===//
#ifndef DLC_DATA_DATABASE_H
#define DLC_DATA_DATABASE_H

#include "dlc/Data/DataLayer.h"

#include <memory>
#include <string>
#include <string_view>

namespace dlc::data {

enum class Backend { LevelDB, LMDB };

/// "lmdb" or "leveldb".
const char *backendName(Backend backend);

/// Reads records in key order; wraps around with seekToFirst().
class DbReader {
public:
  virtual ~DbReader() = default;
  static std::unique_ptr<DbReader> open(const std::string &path, Backend backend);
  virtual void seekToFirst() = 0;
  virtual void next() = 0;
  virtual bool valid() const = 0;
  virtual std::string_view key() const = 0;
  virtual std::string_view value() const = 0;
  /// Records in the database.
  virtual int64_t count() = 0;
};

/// Creates a new database (the directory must not exist) and writes records;
/// commit() makes them durable (call it every few thousand records).
class DbWriter {
public:
  virtual ~DbWriter() = default;
  static std::unique_ptr<DbWriter> create(const std::string &path, Backend backend);
  virtual void put(std::string_view key, std::string_view value) = 0;
  virtual void commit() = 0;
};

} // namespace dlc::data

#endif // DLC_DATA_DATABASE_H
