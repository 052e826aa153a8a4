/*
 * The libcurl request that the integration tests' client (client.c) and
 * the cluster tests' load (tests/cluster/load.c) both send: one function
 * sets it up, one collects an answer's bytes in a bounded buffer.
 */
#ifndef CURL_REQ_H
#define CURL_REQ_H

#include <stddef.h>

#include <curl/curl.h>

/* Seconds one request may take in all, its answer included. */
#define CURL_REQ_TIMEOUT_S 30L

/*
 * Sets c up for METHOD url with headers (the caller keeps and frees them
 * after the request) and body (NULL: none); the answer's body goes to
 * on_body and its header lines to on_header, each with arg.
 */
void curl_req_setup(CURL *c, const char *url, const char *method,
    struct curl_slist *headers, const char *body, curl_write_callback on_body,
    curl_write_callback on_header, void *arg);

/*
 * Appends n bytes of data to buf (size bytes, *len of them used), keeping
 * it NUL-ended. Returns n, or 0 when they do not fit, which makes libcurl
 * stop the transfer with an error.
 */
size_t curl_req_append(
    char *buf, size_t size, size_t *len, const char *data, size_t n);

#endif
