/* report info: what a capture is, where and when it was made, what it holds. */
#ifndef CASEFILE_REPORT_INFO_H
#define CASEFILE_REPORT_INFO_H

int report_info(int argc, char **argv);

#endif
