/*
 * The shared libcurl request: include curl_req.h.
 */
#include <string.h>

#include "curl_req.h"

void
curl_req_setup(CURL *c, const char *url, const char *method,
    struct curl_slist *headers, const char *body, curl_write_callback on_body,
    curl_write_callback on_header, void *arg)
{
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, arg);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, arg);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, CURL_REQ_TIMEOUT_S);
	/* Threads of the cluster load: no signal for the timeout. */
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
}

size_t
curl_req_append(char *buf, size_t size, size_t *len, const char *data, size_t n)
{
	if (*len + n >= size)
		return 0;
	memcpy(buf + *len, data, n);
	*len += n;
	buf[*len] = '\0';
	return n;
}
