import matplotlib.pyplot as plt
fig, ax = plt.subplots(figsize=(3, 3))
ax.plot([2, 8, 3], color='#d62728', marker='o', linewidth=3)
ax.set_title('Growth')
plt.show()
