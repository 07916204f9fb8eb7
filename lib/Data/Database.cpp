//===- Database.cpp - LMDB and LevelDB key-value stores -------------------===//
//
// Part of the dlc project, under the Apache License v2.0 with LLVM Exceptions.
//
//===----------------------------------------------------------------------===//

#include "dlc/Data/Database.h"

#include <leveldb/db.h>
#include <leveldb/write_batch.h>
#include <lmdb.h>

#include <filesystem>
#include <sys/stat.h>

namespace fs = std::filesystem;

namespace dlc::data {

const char *backendName(Backend backend) {
  return backend == Backend::LMDB ? "lmdb" : "leveldb";
}

namespace {

[[noreturn]] void fail(const std::string &path, Backend b, const std::string &what) {
  throw Error(path + ": error: " + backendName(b) + ": " + what);
}

//===----------------------------------------------------------------------===//
// LMDB
//===----------------------------------------------------------------------===//

void lmdbCheck(int rc, const std::string &path, const char *what) {
  if (rc != MDB_SUCCESS)
    fail(path, Backend::LMDB, std::string(what) + ": " + mdb_strerror(rc));
}

class LmdbReader : public DbReader {
public:
  explicit LmdbReader(const std::string &path) : path_(path) {
    std::error_code ec;
    if (!fs::is_directory(path, ec))
      fail(path, Backend::LMDB, fs::exists(path, ec) ? "not a directory (an LMDB is a directory "
                                                       "holding data.mdb)"
                                                     : "No such file or directory");
    lmdbCheck(mdb_env_create(&env_), path, "cannot create an environment");
    // Read-only, no lock file (the database may be on a read-only disk).
    int rc = mdb_env_open(env_, path.c_str(), MDB_RDONLY | MDB_NOTLS | MDB_NOLOCK, 0664);
    if (rc != MDB_SUCCESS) {
      mdb_env_close(env_);
      env_ = nullptr;
      lmdbCheck(rc, path, "cannot open");
    }
    lmdbCheck(mdb_txn_begin(env_, nullptr, MDB_RDONLY, &txn_), path, "cannot read");
    lmdbCheck(mdb_dbi_open(txn_, nullptr, 0, &dbi_), path, "cannot open the database");
    lmdbCheck(mdb_cursor_open(txn_, dbi_, &cursor_), path, "cannot read");
    seekToFirst();
  }
  ~LmdbReader() override {
    if (cursor_)
      mdb_cursor_close(cursor_);
    if (txn_)
      mdb_txn_abort(txn_);
    if (env_)
      mdb_env_close(env_);
  }
  void seekToFirst() override { move(MDB_FIRST); }
  void next() override { move(MDB_NEXT); }
  bool valid() const override { return valid_; }
  std::string_view key() const override {
    return {static_cast<const char *>(key_.mv_data), key_.mv_size};
  }
  std::string_view value() const override {
    return {static_cast<const char *>(value_.mv_data), value_.mv_size};
  }
  int64_t count() override {
    MDB_stat st;
    lmdbCheck(mdb_stat(txn_, dbi_, &st), path_, "cannot read its size");
    return int64_t(st.ms_entries);
  }

private:
  void move(MDB_cursor_op op) {
    int rc = mdb_cursor_get(cursor_, &key_, &value_, op);
    if (rc == MDB_NOTFOUND) {
      valid_ = false;
      return;
    }
    lmdbCheck(rc, path_, "cannot read a record");
    valid_ = true;
  }
  std::string path_;
  MDB_env *env_ = nullptr;
  MDB_txn *txn_ = nullptr;
  MDB_dbi dbi_ = 0;
  MDB_cursor *cursor_ = nullptr;
  MDB_val key_{}, value_{};
  bool valid_ = false;
};

class LmdbWriter : public DbWriter {
public:
  explicit LmdbWriter(const std::string &path) : path_(path) {
    std::error_code ec;
    if (fs::exists(path, ec))
      fail(path, Backend::LMDB, "already exists");
    if (mkdir(path.c_str(), 0755) != 0)
      fail(path, Backend::LMDB, "cannot create the directory");
    lmdbCheck(mdb_env_create(&env_), path, "cannot create an environment");
    // Caffe's 1 TB map (sparse; grows as written).
    lmdbCheck(mdb_env_set_mapsize(env_, size_t(1) << 40), path, "cannot set the map size");
    lmdbCheck(mdb_env_open(env_, path.c_str(), 0, 0664), path, "cannot open");
  }
  ~LmdbWriter() override {
    if (env_)
      mdb_env_close(env_);
  }
  void put(std::string_view key, std::string_view value) override {
    pending_.emplace_back(std::string(key), std::string(value));
  }
  void commit() override {
    MDB_txn *txn = nullptr;
    MDB_dbi dbi;
    lmdbCheck(mdb_txn_begin(env_, nullptr, 0, &txn), path_, "cannot write");
    int rc = mdb_dbi_open(txn, nullptr, 0, &dbi);
    for (size_t i = 0; rc == MDB_SUCCESS && i < pending_.size(); ++i) {
      MDB_val k{pending_[i].first.size(), pending_[i].first.data()};
      MDB_val v{pending_[i].second.size(), pending_[i].second.data()};
      rc = mdb_put(txn, dbi, &k, &v, 0);
    }
    if (rc != MDB_SUCCESS) {
      mdb_txn_abort(txn);
      lmdbCheck(rc, path_, "cannot write a record");
    }
    lmdbCheck(mdb_txn_commit(txn), path_, "cannot commit");
    pending_.clear();
  }

private:
  std::string path_;
  MDB_env *env_ = nullptr;
  std::vector<std::pair<std::string, std::string>> pending_;
};

//===----------------------------------------------------------------------===//
// LevelDB
//===----------------------------------------------------------------------===//

class LevelDbReader : public DbReader {
public:
  explicit LevelDbReader(const std::string &path) : path_(path) {
    std::error_code ec;
    if (!fs::is_directory(path, ec))
      fail(path, Backend::LevelDB, fs::exists(path, ec) ? "not a directory"
                                                          : "No such file or directory");
    leveldb::Options options;
    options.create_if_missing = false;
    leveldb::DB *db = nullptr;
    leveldb::Status st = leveldb::DB::Open(options, path, &db);
    if (!st.ok())
      fail(path, Backend::LevelDB,
           "cannot open: " + st.ToString() +
               (st.ToString().find("lock") != std::string::npos
                    ? " (LevelDB takes one reader at a time: do two data layers read it?)"
                    : ""));
    db_.reset(db);
    it_.reset(db_->NewIterator(leveldb::ReadOptions()));
    seekToFirst();
  }
  ~LevelDbReader() override {
    it_.reset();
    db_.reset();
  }
  void seekToFirst() override {
    it_->SeekToFirst();
    check();
  }
  void next() override {
    it_->Next();
    check();
  }
  bool valid() const override { return it_->Valid(); }
  std::string_view key() const override { return {it_->key().data(), it_->key().size()}; }
  std::string_view value() const override { return {it_->value().data(), it_->value().size()}; }
  int64_t count() override {
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    int64_t n = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next())
      ++n;
    return n;
  }

private:
  void check() {
    if (!it_->status().ok())
      fail(path_, Backend::LevelDB, "cannot read: " + it_->status().ToString());
  }
  std::string path_;
  std::unique_ptr<leveldb::DB> db_;
  std::unique_ptr<leveldb::Iterator> it_;
};

class LevelDbWriter : public DbWriter {
public:
  explicit LevelDbWriter(const std::string &path) : path_(path) {
    leveldb::Options options;
    options.create_if_missing = true;
    options.error_if_exists = true;
    options.write_buffer_size = 268435456; // Caffe's
    leveldb::DB *db = nullptr;
    leveldb::Status st = leveldb::DB::Open(options, path, &db);
    if (!st.ok())
      fail(path, Backend::LevelDB, "cannot create: " + st.ToString());
    db_.reset(db);
  }
  void put(std::string_view key, std::string_view value) override {
    batch_.Put(leveldb::Slice(key.data(), key.size()), leveldb::Slice(value.data(), value.size()));
  }
  void commit() override {
    leveldb::Status st = db_->Write(leveldb::WriteOptions(), &batch_);
    if (!st.ok())
      fail(path_, Backend::LevelDB, "cannot write: " + st.ToString());
    batch_.Clear();
  }

private:
  std::string path_;
  std::unique_ptr<leveldb::DB> db_;
  leveldb::WriteBatch batch_;
};

} // namespace

std::unique_ptr<DbReader> DbReader::open(const std::string &path, Backend backend) {
  if (backend == Backend::LMDB)
    return std::make_unique<LmdbReader>(path);
  return std::make_unique<LevelDbReader>(path);
}

std::unique_ptr<DbWriter> DbWriter::create(const std::string &path, Backend backend) {
  if (backend == Backend::LMDB)
    return std::make_unique<LmdbWriter>(path);
  return std::make_unique<LevelDbWriter>(path);
}

} // namespace dlc::data
